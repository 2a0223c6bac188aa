"""The words of the national standard: its columns and versions, its 9 services, the
enumerated values of its multi-valued fields, and how the older v0.1 labels map onto them.

The enumerated values are kept in French, as the standard writes them (files and the
database hold them so); they are marked for the catalogue (N_, gettext_noop), so that pages
show them in the reader's language (`|translated`, `standard_choices`).
"""

from django.utils.translation import gettext_noop as N_

from services.nomenclature import NOMENCLATURE

V1_COLUMNS = [
    "id", "pivot", "nom", "commune", "code_postal", "code_insee", "adresse",
    "complement_adresse", "latitude", "longitude", "typologie", "telephone", "courriels",
    "site_web", "horaires", "presentation_resume", "presentation_detail", "source",
    "itinerance", "structure_parente", "date_maj", "services",
    "publics_specifiquement_adresses", "prise_en_charge_specifique", "frais_a_charge",
    "dispositif_programmes_nationaux", "formations_labels", "autres_formations_labels",
    "modalites_acces", "modalites_accompagnement", "fiche_acces_libre", "prise_rdv",
]
# Columns without which no row could be used: their absence is a whole-file error.
REQUIRED_COLUMNS = ["id", "nom", "commune", "code_postal", "adresse"]
V01_ONLY_COLUMNS = {"courriel", "publics_accueillis", "conditions_acces", "labels_nationaux",
                    "labels_autres", "accessibilite", "cle_ban"}
V1_ONLY_COLUMNS = {"courriels", "publics_specifiquement_adresses", "prise_en_charge_specifique",
                   "frais_a_charge", "dispositif_programmes_nationaux", "formations_labels",
                   "autres_formations_labels", "modalites_acces", "itinerance",
                   "fiche_acces_libre"}

# What every published place says of itself where a format has room for it: the v1.0.2
# column `autres_formations_labels`, data.inclusion's `frais_autres` (places.standard.inclusion).
# Data, not interface: the same French words whatever the reader's language.
ACCEPTS_APTIC = "Accepte les chèques #APTIC"

V1 = "1.0.2"
V01 = "0.1"
SEPARATORS = {V1: "|", V01: ";"}

# The 9 services of v1.0.2, in the standard's order: the categories of the nomenclature
# (services.nomenclature), whose labels are the standard's (Category.standard_label).
STANDARD_SERVICES = [label for _slug, label, _services in NOMENCLATURE]
# The 15 services of v0.1 condensed into the 9 of v1 (the standard's change log).
OLD_SERVICES = {
    "Devenir autonome dans les démarches administratives": "Aide aux démarches administratives",
    "Réaliser des démarches administratives avec un accompagnement":
        "Aide aux démarches administratives",
    "Accompagner les démarches de santé": "Aide aux démarches administratives",
    "Prendre en main un smartphone ou une tablette":
        "Maîtrise des outils numériques du quotidien",
    "Prendre en main un ordinateur": "Maîtrise des outils numériques du quotidien",
    "Utiliser le numérique au quotidien": "Maîtrise des outils numériques du quotidien",
    "Favoriser mon insertion professionnelle": "Insertion professionnelle via le numérique",
    "Créer et développer mon entreprise": "Insertion professionnelle via le numérique",
    "Soutenir la parentalité et l'éducation avec le numérique":
        "Parentalité et éducation avec le numérique",
    "Créer avec le numérique": "Loisirs et créations numériques",
    "Approfondir ma culture numérique": "Compréhension du monde numérique",
    "Promouvoir la citoyenneté numérique": "Compréhension du monde numérique",
    "Accéder à une connexion internet": "Accès internet et matériel informatique",
    "Accéder à du matériel": "Accès internet et matériel informatique",
    "S'équiper en matériel informatique":
        "Acquisition de matériel informatique à prix solidaire",
}

PUBLICS = [N_("Jeunes"), N_("Étudiants"), N_("Familles et/ou enfants"), N_("Seniors"),
           N_("Femmes")]
SPECIFIC_SUPPORT = [N_("Surdité"), N_("Handicaps moteurs"), N_("Handicaps mentaux"),
                    N_("Illettrisme"), N_("Langues étrangères (anglais)"),
                    N_("Langues étrangères (autres)"), N_("Déficience visuelle")]
FEES = [N_("Gratuit"), N_("Gratuit sous condition"), N_("Payant")]
# Names of national programmes and labels: proper names, not translated.
NATIONAL_SCHEMES = [
    "Aidants Connect", "Bibliothèques numérique de référence", "Certification PIX",
    "Conseillers numériques", "Emmaüs Connect", "France Services", "Grande école du numérique",
    "La Croix Rouge", "Point d'accès numérique CAF", "Promeneurs du net",
    "Relais numérique (Emmaüs Connect)",
]
LABELS = [
    "Formé à « Mon Espace Santé »", "Formé à « DUPLEX » (illettrisme)",
    "Arnia/MedNum BFC (Bourgogne-Franche-Comté)",
    "Collectif ressources et acteurs réemploi (Normandie)", "Étapes numériques(La Poste)",
    "Fabriques de Territoire", "Les Éclaireurs du numérique (Drôme)",
    "Mes Papiers (Métropole de Lyon)", "ORDI 3.0", "SUD LABS (PACA)",
]
ACCESS_MODES = [N_("Se présenter"), N_("Téléphoner"), N_("Contacter par mail"),
                N_("Prendre un RDV en ligne"), N_("Ce lieu n'accueille pas de public"),
                N_("Envoyer un mail avec une fiche de prescription")]
SUPPORT_MODES = [N_("En autonomie"), N_("Accompagnement individuel"),
                 N_("Dans un atelier collectif"), N_("À distance")]
ITINERANCY = [N_("Itinérant"), N_("Fixe")]

ORDER = {"publics": PUBLICS, "specific_support": SPECIFIC_SUPPORT, "fees": FEES,
         "national_schemes": NATIONAL_SCHEMES, "labels": LABELS, "access_modes": ACCESS_MODES,
         "support_modes": SUPPORT_MODES, "itinerancy": ITINERANCY}

# v0.1 enumerations: old label -> list of (model field, v1 value); an empty list means
# "known, without an equivalent in v1" (dropped silently).
OLD_PUBLICS = {
    "Seniors (+ 65 ans)": [("publics", "Seniors")],
    "Familles/enfants": [("publics", "Familles et/ou enfants")],
    "Adultes": [],
    "Jeunes (16-26 ans)": [("publics", "Jeunes")],
    "Uniquement femmes": [("publics", "Femmes")],
    "Public langues étrangères": [("specific_support", "Langues étrangères (autres)")],
    "Déficience visuelle": [("specific_support", "Déficience visuelle")],
    "Surdité": [("specific_support", "Surdité")],
    "Handicaps psychiques : troubles psychiatriques donnant lieu à des atteintes "
    "comportementales": [("specific_support", "Handicaps mentaux")],
    "Handicaps mentaux : déficiences limitant les activités d'une personne":
        [("specific_support", "Handicaps mentaux")],
    "Personnes en situation d'illettrisme": [("specific_support", "Illettrisme")],
}
OLD_FEES = {
    "Gratuit : Je peux accéder gratuitement au lieu et à ses services": [("fees", "Gratuit")],
    "Gratuit sous condition : La gratuité est conditionnée à des critères (situation "
    "familiale, convention avec un organisme social...)": [("fees", "Gratuit sous condition")],
    "Payant : L'accès au lieu et/ou à ses services est payant": [("fees", "Payant")],
    "Accepte le Pass numérique : Il est possible d'utiliser un Pass numérique pour accéder au "
    "lieu": [],
    "Adhésion : L'accès au lieu et/ou à ses services nécessite d'y adhérer": [("fees", "Payant")],
}
OLD_LABELS = {
    "France Services": [("national_schemes", "France Services")],
    "CNFS": [("national_schemes", "Conseillers numériques")],
    "APTIC": [("other_labels", "APTIC")],
    "Aidants Connect": [("national_schemes", "Aidants Connect")],
    "Fabriques de Territoire": [("labels", "Fabriques de Territoire")],
    "Grandes écoles du numérique": [("national_schemes", "Grande école du numérique")],
    "Point relais CAF": [("national_schemes", "Point d'accès numérique CAF")],
    "Point numérique CAF": [("national_schemes", "Point d'accès numérique CAF")],
    "Relais pôle emploi": [("other_labels", "Relais pôle emploi")],
    "French Tech": [("other_labels", "French Tech")],
    "Campus connecté": [("other_labels", "Campus connecté")],
}
OLD_SUPPORT_MODES = {
    "Seul : j'ai accès à du matériel et une connexion": [("support_modes", "En autonomie")],
    "Avec de l'aide : je suis accompagné seul dans l'usage du numérique":
        [("support_modes", "Accompagnement individuel")],
    "Dans un atelier : j'apprends collectivement à utiliser le numérique":
        [("support_modes", "Dans un atelier collectif")],
    "A ma place : une personne habilitée fait les démarches à ma place":
        [("support_modes", "Accompagnement individuel")],
}

