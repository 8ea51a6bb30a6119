"""Who a user is on the shop floor: employee number (their badge), printed name, home site."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    employee_number = models.CharField(max_length=30, unique=True, help_text="Printed on the badge.")
    printed_name = models.CharField(max_length=150, help_text="The name shown beside every signature (21 CFR 11.50).")
    site = models.ForeignKey("masterdata.Site", on_delete=models.PROTECT, null=True, blank=True)

    class Meta:
        ordering = ["employee_number"]

    def __str__(self) -> str:
        return f"{self.printed_name} ({self.employee_number})"
