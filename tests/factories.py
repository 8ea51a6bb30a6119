"""factory_boy factories for the whole suite: one place, built on the models' natural keys."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from mes.compliance.models import Profile
from mes.masterdata import services
from mes.masterdata.change_control import routing_change_approve, routing_change_request, routing_release_signed
from mes.masterdata.models import Operation, Part, PartRevision, Qualification, Routing, Site, WorkCenter

DEFAULT_PASSWORD = "correct-horse-battery-9"


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"S{n:02d}")
    name = factory.LazyAttribute(lambda o: f"Site {o.code}")
    time_zone = "Europe/Paris"
    legacy_system = factory.LazyAttribute(lambda o: f"legacy-{o.code.lower()}")


class WorkCenterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkCenter
        django_get_or_create = ("site", "code")

    site = factory.SubFactory(SiteFactory)
    code = factory.Sequence(lambda n: f"WC{n:02d}")
    name = factory.LazyAttribute(lambda o: f"Cell {o.code}")


class OperationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Operation
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"OP{n:02d}")
    name = factory.LazyAttribute(lambda o: f"Operation {o.code}")


class PartFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Part
        django_get_or_create = ("number",)

    number = factory.Sequence(lambda n: f"P-{1000 + n}")
    name = factory.LazyAttribute(lambda o: f"Part {o.number}")


class PartRevisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartRevision
        django_get_or_create = ("part", "revision")

    part = factory.SubFactory(PartFactory)
    revision = "A"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Alex"
    last_name = factory.Sequence(lambda n: f"Tester{n}")
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def profile(self, create, extracted, **kwargs):
        if create:
            Profile.objects.get_or_create(
                user=self,
                defaults={"employee_number": f"E{self.pk:05d}", "printed_name": self.get_full_name()},
            )
            self.save()


class QualificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Qualification

    user = factory.SubFactory(UserFactory)
    operation = factory.SubFactory(OperationFactory)
    kind = Qualification.Kind.PERFORM
    valid_from = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=365))
    expires_on = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=365))


def released_routing(*, part_revision=None, steps: int = 3, operation=None, work_center=None, actor=None):
    """A released routing built through the services: `steps` steps, one numeric bore each."""
    part_revision = part_revision or PartRevisionFactory()
    operation = operation or OperationFactory()
    routing = services.routing_create_draft(part_revision=part_revision, actor=actor)
    for i in range(1, steps + 1):
        step = services.routing_step_add(
            routing=routing, sequence=i * 10, operation=operation, title=f"Step {i}", work_center=work_center
        )
        services.characteristic_add(
            step=step,
            code="BORE_DIA",
            name="Bore diameter",
            unit="mm",
            nominal=Decimal("12.700"),
            lower_limit=Decimal("12.687"),
            upper_limit=Decimal("12.713"),
        )
    return release_routing(routing=routing)


def change_signers():
    """The engineer and the quality inspector who sign routing changes in tests (two different people)."""
    signers = []
    for username, first, last, role in (("cc-engineer", "Chris", "Engineer", "Engineer"),
                                        ("cc-quality", "Quinn", "Quality", "Inspector")):  # fmt: skip
        user = get_user_model().objects.filter(username=username).first()  # as is: no new password hash
        if user is None:
            user = UserFactory(username=username, first_name=first, last_name=last)
            user.groups.add(Group.objects.get(name=role))
        signers.append(user)
    return tuple(signers)


def release_routing(*, routing, actor=None, reason: str = "released for the test"):
    """Release a draft through change control: the engineer asks and signs, quality signs."""
    engineer, quality = change_signers()
    return routing_release_signed(
        routing=routing,
        reason=reason,
        engineer=engineer,
        engineer_secret=DEFAULT_PASSWORD,
        quality=quality,
        quality_secret=DEFAULT_PASSWORD,
    )


def obsolete_routing(*, routing, reason: str = "retired for the test"):
    """Make a released routing obsolete through change control (two signatures)."""
    engineer, quality = change_signers()
    change = routing_change_request(routing=routing, action="obsolete", reason=reason, actor=engineer)
    for role, signer in (("engineering", engineer), ("quality", quality)):
        routing_change_approve(
            change=change, role=role, actor=signer, secret=DEFAULT_PASSWORD, username=signer.get_username()
        )
    return Routing.objects.get(pk=routing.pk)
