"""The services nomenclature: what a cheque can pay for."""

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class ActiveQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)


class Category(models.Model):
    """One of the 9 services of the national standard of digital-mediation places."""

    slug = models.SlugField(_("identifiant"), unique=True)
    label = models.CharField(_("libellé"), max_length=200)
    # The exact label of the national standard (v1.0.2), used by import and export.
    standard_label = models.CharField(_("libellé du standard national"), max_length=200,
                                      unique=True)
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)
    active = models.BooleanField(_("active"), default=True)

    objects = ActiveQuerySet.as_manager()

    class Meta:
        verbose_name = _("catégorie de services")
        verbose_name_plural = _("catégories de services")
        ordering = ["position", "label"]

    def __str__(self):
        return self.display_label

    @property
    def display_label(self):
        """The label in the reader's language (services.nomenclature)."""
        return gettext(self.label)


class Service(models.Model):
    """A concrete, redeemable service; inactive services stay for history."""

    category = models.ForeignKey(Category, verbose_name=_("catégorie"), on_delete=models.PROTECT,
                                 related_name="services")
    slug = models.SlugField(_("identifiant"), unique=True)
    label = models.CharField(_("libellé"), max_length=200)
    default_cheques = models.PositiveSmallIntegerField(
        _("nombre de chèques par défaut"), default=1,
        help_text=_("Combien de chèques ce service coûte d’ordinaire."),
    )
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)
    active = models.BooleanField(_("actif"), default=True)

    objects = ActiveQuerySet.as_manager()

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["category__position", "position", "label"]

    def __str__(self):
        return self.display_label

    @property
    def display_label(self):
        """The label in the reader's language (services.nomenclature)."""
        return gettext(self.label)

    @property
    def is_selectable(self):
        return self.active and self.category.active
