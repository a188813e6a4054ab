"""Shared reference data (public schema): unit mappings, ISO calendars and the ISO, market, node, block and
product catalogs of spec 2.2.

The rows come from the catalog files in ``../shared/fixtures/aurum-original`` and are written only by
``apps.reference.services``; everything else reads them. Rows point at each other by their natural codes
(``to_field``), so a row's foreign key column holds the code that is written in the file.
"""

from django.db import models


class UnitMapping(models.Model):
    """Vendor unit text (``$ / MWh``) and the currency and unit it means."""

    units_raw = models.CharField(max_length=64, unique=True, help_text="the unit text as written in the file")
    units_key = models.CharField(
        max_length=64, db_index=True, help_text="lookup key: the unit text upper-cased, spaces removed"
    )
    currency = models.CharField(max_length=8)
    per_unit = models.CharField(max_length=32)

    class Meta:
        ordering = ["units_key", "units_raw"]

    def __str__(self) -> str:
        return f"{self.units_raw} → {self.currency}/{self.per_unit}"

    @staticmethod
    def key_for(units_raw: str) -> str:
        """Return the lookup key of unit text (spec 2.2): upper case, spaces removed."""
        return units_raw.upper().replace(" ", "")


class Calendar(models.Model):
    """A trading calendar (``pjm``, ``eu_base``): its timezone, holidays and hour blocks."""

    name = models.CharField(max_length=32, unique=True)
    timezone = models.CharField(max_length=64)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CalendarHoliday(models.Model):
    calendar = models.ForeignKey(
        Calendar, to_field="name", db_column="calendar", on_delete=models.CASCADE, related_name="holidays"
    )
    date = models.DateField()

    class Meta:
        ordering = ["calendar_id", "date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="uniq_calendar_holiday")]

    def __str__(self) -> str:
        return f"{self.calendar_id} {self.date.isoformat()}"


class CalendarBlock(models.Model):
    """The hours of a block (``ON_PEAK``) by weekday.

    ``rules`` is a list of ``{"weekdays": [ISO weekday 1-7, ...], "hours": ["HH-HH", ...]}``; both hours of a
    range are included, so ``"07-22"`` is 16 hours.
    """

    calendar = models.ForeignKey(
        Calendar, to_field="name", db_column="calendar", on_delete=models.CASCADE, related_name="blocks"
    )
    block = models.CharField(max_length=32)
    rules = models.JSONField(default=list)

    class Meta:
        ordering = ["calendar_id", "block"]
        constraints = [models.UniqueConstraint(fields=["calendar", "block"], name="uniq_calendar_block")]

    def __str__(self) -> str:
        return f"{self.calendar_id} {self.block}"


class Iso(models.Model):
    """An ISO/RTO of ``iso_catalog.csv``."""

    iso_code = models.CharField(max_length=16, unique=True)
    iso_name = models.CharField(max_length=128)
    country = models.CharField(max_length=8, help_text="ISO country code, or N/A")
    default_timezone = models.CharField(max_length=64)
    region = models.CharField(max_length=32, help_text="reliability region, e.g. WECC or NPCC")
    timezone_offsets = models.JSONField(
        default=list, help_text='UTC offsets of standard time, e.g. ["-05:00"]', blank=True
    )

    class Meta:
        ordering = ["iso_code"]
        verbose_name = "ISO"
        verbose_name_plural = "ISOs"

    def __str__(self) -> str:
        return self.iso_code


class IsoDataSource(models.Model):
    """How an ISO publishes its market data (``iso_catalog.json``): the API, its limits and what it offers."""

    iso = models.OneToOneField(
        Iso, to_field="iso_code", db_column="iso_code", on_delete=models.PROTECT, related_name="data_source"
    )
    full_name = models.CharField(max_length=128)
    region = models.CharField(max_length=64, help_text="geographic area, e.g. Mid-Atlantic")
    base_url = models.URLField()
    description = models.TextField(blank=True)
    data_types = models.JSONField(default=list, blank=True, help_text='e.g. ["lmp", "load"]')
    markets = models.JSONField(default=list, blank=True, help_text='e.g. ["DAM", "RTM"]')
    zones = models.JSONField(default=list, blank=True)
    requests_per_minute = models.PositiveIntegerField()
    requests_per_hour = models.PositiveIntegerField()
    api_format = models.CharField(max_length=16, help_text="json or csv")
    authentication = models.CharField(max_length=32, help_text="none, api_key, basic_auth, bearer_token")
    api_key_required = models.BooleanField(default=False)
    price_nodes_available = models.BooleanField(default=False)
    ancillary_services_available = models.BooleanField(default=False)

    class Meta:
        ordering = ["iso_id"]
        verbose_name = "ISO data source"

    def __str__(self) -> str:
        return f"{self.iso_id} ({self.base_url})"


class Market(models.Model):
    """A market of an ISO (``market_catalog.csv``): day-ahead, real-time, ..."""

    iso = models.ForeignKey(
        Iso, to_field="iso_code", db_column="iso_code", on_delete=models.PROTECT, related_name="markets"
    )
    market_code = models.CharField(max_length=32)
    market_name = models.CharField(max_length=128)
    market_category = models.CharField(max_length=32)
    settlement_interval_minutes = models.PositiveSmallIntegerField()
    timezone_override = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["iso_id", "market_code"]
        constraints = [
            models.UniqueConstraint(fields=["iso", "market_code"], name="uniq_market"),
            models.CheckConstraint(
                condition=models.Q(settlement_interval_minutes__gt=0), name="market_interval_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.iso_id} {self.market_code}"


class IsoNode(models.Model):
    """A priced location of an ISO (``iso_nodes.csv``)."""

    class LocationType(models.TextChoices):
        NODE = "NODE"
        ZONE = "ZONE"
        HUB = "HUB"
        SYSTEM = "SYSTEM"
        AGGREGATE = "AGGREGATE"
        INTERFACE = "INTERFACE"
        RESOURCE = "RESOURCE"
        OTHER = "OTHER"

    iso = models.ForeignKey(
        Iso, to_field="iso_code", db_column="iso", on_delete=models.PROTECT, related_name="nodes"
    )
    location_id = models.CharField(max_length=64)
    location_name = models.CharField(max_length=128)
    location_type = models.CharField(max_length=16, choices=LocationType.choices)
    zone = models.CharField(max_length=64, blank=True)
    hub = models.CharField(max_length=64, blank=True)
    timezone = models.CharField(max_length=64)

    class Meta:
        ordering = ["iso_id", "location_id"]
        verbose_name = "ISO node"
        constraints = [models.UniqueConstraint(fields=["iso", "location_id"], name="uniq_iso_node")]

    def __str__(self) -> str:
        return f"{self.iso_id} {self.location_id}"


class Block(models.Model):
    """A traded hour block (``block_catalog.csv``): 7X24, 5X16, ...

    ``start_hour``/``end_hour`` are hour-of-day bounds as written (0-24; an overnight block ends before it
    starts); ``total_hours`` is the hours per week.
    """

    block_code = models.CharField(max_length=16, unique=True)
    block_name = models.CharField(max_length=128)
    start_hour = models.PositiveSmallIntegerField()
    end_hour = models.PositiveSmallIntegerField()
    total_hours = models.PositiveSmallIntegerField(help_text="hours per week")
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["block_code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start_hour__lte=24, end_hour__lte=24, total_hours__lte=168),
                name="block_hours_in_range",
            )
        ]

    def __str__(self) -> str:
        return self.block_code


class Product(models.Model):
    """A traded product (``product_catalog.csv``)."""

    product_code = models.CharField(max_length=32, unique=True)
    product_name = models.CharField(max_length=128)
    tenor_type = models.CharField(max_length=16)
    commodity = models.CharField(max_length=16)
    unit = models.CharField(max_length=32, help_text="as written, e.g. USD/MWh, USD/kW-Mo, %")
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["product_code"]

    def __str__(self) -> str:
        return self.product_code
