"""The seed nomenclature: the 9 services of the national standard (v1.0.2) as categories,
each with concrete services a cheque pays for. Slugs are stable: never rename them."""

NOMENCLATURE = [
    ("demarches", "Aide aux démarches administratives", [
        ("demarches-accompagnement", "Accompagnement individuel aux démarches en ligne (1 h)", 1),
        ("demarches-atelier", "Atelier collectif démarches en ligne (2 h)", 2),
    ]),
    ("outils-quotidien", "Maîtrise des outils numériques du quotidien", [
        ("outils-atelier", "Atelier collectif (2 h)", 2),
        ("outils-accompagnement", "Accompagnement individuel (1 h)", 1),
        ("outils-smartphone", "Prendre en main un smartphone ou une tablette (1 h)", 1),
    ]),
    ("insertion-pro", "Insertion professionnelle via le numérique", [
        ("insertion-atelier", "Atelier CV et candidature en ligne (2 h)", 2),
        ("insertion-accompagnement", "Accompagnement individuel à l’emploi (1 h)", 1),
    ]),
    ("usage-securise", "Utilisation sécurisée du numérique", [
        ("securite-atelier", "Atelier sécurité et arnaques en ligne (2 h)", 2),
    ]),
    ("parentalite", "Parentalité et éducation avec le numérique", [
        ("parentalite-atelier", "Atelier parents et écrans (2 h)", 2),
    ]),
    ("loisirs", "Loisirs et créations numériques", [
        ("loisirs-atelier", "Atelier créatif numérique (2 h)", 2),
    ]),
    ("comprehension", "Compréhension du monde numérique", [
        ("comprehension-atelier", "Atelier culture numérique (2 h)", 2),
    ]),
    ("acces-internet", "Accès internet et matériel informatique", [
        ("acces-poste", "Accès accompagné à un poste et à internet (1 h)", 1),
    ]),
    ("materiel-solidaire", "Acquisition de matériel informatique à prix solidaire", [
        ("materiel-conseil", "Conseil et aide à l’achat de matériel reconditionné (1 h)", 1),
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
