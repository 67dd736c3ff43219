"""Bottom-up revenue: the API and every other channel, attributed to generations by traffic.

The API sells tokens at each generation's price (``revenue.api_traffic``); price elasticity
scales its demand; cloud partners sell a share of it and keep their cut; consumer tiers,
enterprise contracts and licensing fees are split over the models on sale by traffic share
so that the per-generation view stays whole (DESIGN §4, "Revenue, two modes").
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from labecon.engine import channels, revenue
from labecon.engine.compiled import generation_total, sum_generations
from labecon.engine.contest import Contest
from labecon.engine.generations import Schedule
from labecon.engine.inputs import Array, Inputs
from labecon.engine.lifecycle import Ages


@dataclass
class BottomUp:
    """Per-generation flows (samples, grid months, G) and company channel totals."""

    revenue: Array  # booked by the lab [USD/month]
    lab_tokens: Array  # tokens served on the lab's compute [Mtok/month]
    fixed_revenue: Array  # revenue a compute shortfall cannot cut: cloud-served, licensing
    cloud_fee: Array  # kept by cloud partners, never booked [USD/month]
    by_channel: dict[str, Array] = field(default_factory=dict)  # (samples, grid months)
    # Part of a channel's revenue that needs none of the lab's compute (samples, grid months).
    fixed_by_channel: dict[str, Array] = field(default_factory=dict)
    # Sums over generations of ``revenue`` and ``lab_tokens`` (samples, grid months) where the
    # API's kernel gave them (the API alone, untouched), else None: sum_generations them.
    revenue_total: Array | None = None
    tokens_total: Array | None = None


def bottom_up(
    inputs: Inputs,
    plan: Schedule,
    months: NDArray[np.int64],
    shares: Array,
    on_sale: NDArray[np.bool_],
    ages: Ages | None = None,
    contest: Contest | None = None,
) -> BottomUp:
    """Revenue and lab-served tokens of every bottom-up channel, by generation.

    ``contest``: in a market, the lab's share of each contested segment's demand.
    """
    section = inputs.scenario.revenue
    contest = contest or Contest()
    api = revenue.api_traffic(inputs, plan, months, shares, on_sale, ages, contest)
    api_revenue, api_tokens = api.revenue, api.tokens_mtok
    if inputs.scenario.strategies.routing is not None:
        # Routed tokens sell at the discounted price (seed 000: "at a much lower cost").
        cut = inputs["strategies.routing.share"] * inputs["strategies.routing.price_discount"]
        api_revenue = api_revenue * (1 - cut)[:, None, None]
    elasticity = inputs["revenue.api.elasticity.price_elasticity"]
    if np.any(elasticity != 0):
        reference = (
            inputs["revenue.api.elasticity.reference_price_per_mtok"]
            if inputs.given("revenue.api.elasticity.reference_price_per_mtok")
            else inputs["revenue.api.release_price_per_mtok"]
        )
        factor = channels.demand_factor(
            channels.average_price(api_revenue, api_tokens), reference, elasticity
        )[:, :, None]
        api_revenue, api_tokens = api_revenue * factor, api_tokens * factor

    fixed = fee = np.zeros(api_revenue.shape)
    lab_revenue, lab_tokens = api_revenue, api_tokens
    if section.cloud_partners is not None:
        share = inputs["revenue.cloud_partners.share_of_api"]
        take = inputs["revenue.cloud_partners.take"]
        on_cloud = inputs["revenue.cloud_partners.served_on_cloud_compute"]
        lab_revenue, lab_tokens, fee = channels.cloud_split(
            api_revenue, api_tokens, share, take, on_cloud
        )
        # What the lab books on tokens the clouds serve does not depend on its own compute.
        fixed = api_revenue * (share * on_cloud * (1 - take))[:, None, None]
        fee_fixed = api_revenue * (share * on_cloud * take)[:, None, None]
        fixed_by_channel = {
            "revenue_api": sum_generations(fixed),
            "cloud_fee": sum_generations(fee_fixed),
        }
        by_channel = {
            "revenue_api": sum_generations(lab_revenue),
            "cloud_fee": sum_generations(fee),
        }
    else:
        # Without clouds nothing is fixed and no fee is kept: sums of zeros, not computed.
        nothing = np.zeros(api_revenue.shape[:2])
        fixed_by_channel = {"revenue_api": nothing, "cloud_fee": nothing}
        api_total = api.revenue_total if lab_revenue is api.revenue else None
        by_channel = {
            "revenue_api": generation_total(api_total, lab_revenue),
            "cloud_fee": nothing,
        }
    total_revenue, total_tokens = lab_revenue, lab_tokens
    if section.consumer is not None:
        tiers = [
            channels.TierInputs.read(inputs.__getitem__, f"revenue.consumer.tiers.{i}")
            for i in range(len(section.consumer.tiers))
        ]
        consumer = channels.consumer_channel(
            tiers, months, contest.consumer, contest.consumer_joining, contest.exit_month
        )
        consumer_revenue = channels.attribute(consumer.revenue, shares)
        total_revenue = total_revenue + consumer_revenue
        total_tokens = total_tokens + channels.attribute(consumer.tokens_mtok, shares)
        by_channel["revenue_consumer"] = sum_generations(consumer_revenue)
        by_channel["subscribers"] = consumer.subscribers
    if section.enterprise is not None:
        e = "revenue.enterprise."
        caught_up = channels.open_weights_caught_up(
            plan.release, on_sale, inputs["revenue.api.open_source_lag_months"], months
        )
        enterprise = channels.enterprise_channel(
            contracts=inputs[e + "contracts"],
            new_per_month=inputs[e + "new_contracts_per_month"],
            new_growth_per_year=inputs[e + "new_contract_growth_per_year"],
            sales_cycle_months=inputs[e + "sales_cycle_months"],
            churn_per_month=inputs[e + "churn_per_month"],
            open_source_churn_multiplier=inputs[e + "open_source_churn_multiplier"],
            contract_value_per_year=inputs[e + "contract_value_per_year"],
            contract_value_growth_per_year=inputs[e + "contract_value_growth_per_year"],
            tokens_per_contract_per_month=inputs[e + "tokens_per_contract_per_month"],
            token_growth_per_year=inputs[e + "token_growth_per_year"],
            caught_up=caught_up,
            months=months,
            share=contest.enterprise,
            joining=contest.enterprise_joining,
            exit_month=contest.exit_month,
        )
        enterprise_revenue = channels.attribute(enterprise.revenue, shares)
        total_revenue = total_revenue + enterprise_revenue
        total_tokens = total_tokens + channels.attribute(enterprise.tokens_mtok, shares)
        by_channel["revenue_enterprise"] = sum_generations(enterprise_revenue)
        by_channel["enterprise_contracts"] = enterprise.active_contracts
    if section.licensing is not None:
        licensing = channels.attribute(
            channels.licensing_revenue(inputs["revenue.licensing.fees_per_year"], months), shares
        )
        total_revenue = total_revenue + licensing
        fixed = fixed + licensing
        by_channel["revenue_licensing"] = fixed_by_channel["revenue_licensing"] = licensing.sum(
            axis=2
        )
    return BottomUp(
        total_revenue,
        total_tokens,
        fixed,
        fee,
        by_channel,
        fixed_by_channel,
        revenue_total=api.revenue_total if total_revenue is api.revenue else None,
        tokens_total=api.tokens_total if total_tokens is api.tokens_mtok else None,
    )
