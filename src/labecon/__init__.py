"""labecon: Monte Carlo economics of foundation-model companies ("AI labs").

>>> import labecon
>>> result = labecon.simulate(labecon.load_scenario("amodei"), samples=1, seed=0)
>>> result.annual("expensed", "p50")["operating_income"].tolist()[:3]
[-100000000.0, -800000000.0, -8000000000.0]
"""

from labecon.api import simulate
from labecon.calibration import Calibration, CalibrationError, calibrate
from labecon.calibration.backtest import Backtest, backtest
from labecon.compare import Comparison, compare
from labecon.discovery import Discovery, discover
from labecon.errors import LabeconError, OptionError, Problem, ScenarioError
from labecon.facts import Fact, FactError, get_fact, load_facts, search_facts
from labecon.report import write_report
from labecon.result import STATS, Result
from labecon.scenario import Scenario, load_scenario, validate
from labecon.scenario.explain import explain
from labecon.sensitivity import sensitivity

__version__ = "0.1.0"

__all__ = [
    "STATS",
    "Backtest",
    "Calibration",
    "CalibrationError",
    "Comparison",
    "Discovery",
    "Fact",
    "FactError",
    "LabeconError",
    "OptionError",
    "Problem",
    "Result",
    "Scenario",
    "ScenarioError",
    "__version__",
    "backtest",
    "calibrate",
    "compare",
    "discover",
    "explain",
    "get_fact",
    "load_facts",
    "load_scenario",
    "search_facts",
    "sensitivity",
    "simulate",
    "validate",
    "write_report",
]
