"""Old job paths, kept only for jobs that RQ may still hold in a queue from before the
jobs moved (webhooks/jobs.py, plugin/loyalty/rewards/redemptions.py, plugin/schedule.py). Nothing
new imports this module; delete it once no deployment can have such jobs queued."""
from plugin.loyalty.rewards.redemptions import issue_redemption_code  # noqa: F401
from webhooks.jobs import drain_webhook_events  # noqa: F401


def maintain_redemptions():
    from plugin.schedule import run_periodic

    return run_periodic("codes")
