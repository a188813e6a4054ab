"""Freshness states per interval for intraday contracts (decision 0042): a nullable ``period_start`` and the
unique constraint split in two partial ones (daily rows keep theirs; interval rows are unique per interval)."""

from django.db import migrations, models
from django.db.models import Q


class Migration(migrations.Migration):
    dependencies = [("datasets", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="datasetdaystate",
            name="period_start",
            field=models.DateTimeField(
                blank=True, help_text="an intraday dataset's interval; empty for a daily publication", null=True
            ),
        ),
        migrations.RemoveConstraint(model_name="datasetdaystate", name="datasets_day_state_once"),
        migrations.AddConstraint(
            model_name="datasetdaystate",
            constraint=models.UniqueConstraint(
                condition=Q(period_start__isnull=True),
                fields=("dataset", "publication_day"),
                name="datasets_day_state_once",
            ),
        ),
        migrations.AddConstraint(
            model_name="datasetdaystate",
            constraint=models.UniqueConstraint(
                condition=Q(period_start__isnull=False),
                fields=("dataset", "period_start"),
                name="datasets_interval_state_once",
            ),
        ),
    ]
