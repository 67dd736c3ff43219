"""labecon: Monte Carlo economics of foundation-model companies ("AI labs").

>>> import labecon
>>> result = labecon.simulate(labecon.load_scenario("amodei"), samples=1, seed=0)
>>> result.annual("expensed", "p50")["operating_income"].tolist()[:3]
[-100000000.0, -800000000.0, -8000000000.0]
"""

from labecon.api import simulate
from labecon.compare import Comparison, compare
from labecon.errors import LabeconError, OptionError, Problem, ScenarioError
from labecon.result import STATS, Result
from labecon.scenario import Scenario, load_scenario, validate

__version__ = "0.1.0"

__all__ = [
    "STATS",
    "Comparison",
    "LabeconError",
    "OptionError",
    "Problem",
    "Result",
    "Scenario",
    "ScenarioError",
    "__version__",
    "compare",
    "load_scenario",
    "simulate",
    "validate",
]
