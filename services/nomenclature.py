"""The seed nomenclature: the 9 services of the national standard (v1.0.2) as categories,
each with concrete services a cheque pays for. Slugs are stable: never rename them.

The labels are French, as the standard writes them and the database keeps them; they are
marked for the catalogue (N_, gettext_noop), so that pages show them in the reader's language
(`Category.display_label`, `Service.display_label`). A label the operator rewrote in the
admin has no translation and shows as written.
"""

from django.utils.translation import gettext_noop as N_

NOMENCLATURE = [
    ("demarches", N_("Aide aux démarches administratives"), [
        ("demarches-accompagnement",
         N_("Accompagnement individuel aux démarches en ligne (1 h)"), 1),
        ("demarches-atelier", N_("Atelier collectif démarches en ligne (2 h)"), 2),
    ]),
    ("outils-quotidien", N_("Maîtrise des outils numériques du quotidien"), [
        ("outils-atelier", N_("Atelier collectif (2 h)"), 2),
        ("outils-accompagnement", N_("Accompagnement individuel (1 h)"), 1),
        ("outils-smartphone", N_("Prendre en main un smartphone ou une tablette (1 h)"), 1),
    ]),
    ("insertion-pro", N_("Insertion professionnelle via le numérique"), [
        ("insertion-atelier", N_("Atelier CV et candidature en ligne (2 h)"), 2),
        ("insertion-accompagnement", N_("Accompagnement individuel à l’emploi (1 h)"), 1),
    ]),
    ("usage-securise", N_("Utilisation sécurisée du numérique"), [
        ("securite-atelier", N_("Atelier sécurité et arnaques en ligne (2 h)"), 2),
    ]),
    ("parentalite", N_("Parentalité et éducation avec le numérique"), [
        ("parentalite-atelier", N_("Atelier parents et écrans (2 h)"), 2),
    ]),
    ("loisirs", N_("Loisirs et créations numériques"), [
        ("loisirs-atelier", N_("Atelier créatif numérique (2 h)"), 2),
    ]),
    ("comprehension", N_("Compréhension du monde numérique"), [
        ("comprehension-atelier", N_("Atelier culture numérique (2 h)"), 2),
    ]),
    ("acces-internet", N_("Accès internet et matériel informatique"), [
        ("acces-poste", N_("Accès accompagné à un poste et à internet (1 h)"), 1),
    ]),
    ("materiel-solidaire", N_("Acquisition de matériel informatique à prix solidaire"), [
        ("materiel-conseil", N_("Conseil et aide à l’achat de matériel reconditionné (1 h)"), 1),
    ]),
]


def seed(category_model, service_model):
    """Create what is missing; never overwrite what the operator edited since."""
    for position, (slug, label, services) in enumerate(NOMENCLATURE, start=1):
        category, _ = category_model.objects.get_or_create(
            slug=slug,
            defaults={"label": label, "standard_label": label, "position": position},
        )
        for service_position, (service_slug, service_label, cheques) in enumerate(services, 1):
            service_model.objects.get_or_create(
                slug=service_slug,
                defaults={"category": category, "label": service_label,
                          "default_cheques": cheques, "position": service_position},
            )


def ensure_seeded():
    from .models import Category, Service

    seed(Category, Service)
