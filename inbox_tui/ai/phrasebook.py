"""What the offline bot understands and says without a model, in en, es, de, fr, pt, it.

- ``asks_for_human``: a customer asking for a person, in the common ways (a human, a
  real person, an agent, an operator, customer service, a representative, an advisor,
  someone…), plus phrases the team adds in the settings.
- ``offers_teammate`` / ``answer_to_offer``: the bot's last line offered a teammate
  and the customer says yes or no to it. Read from the transcript alone, so a yes is
  understood after a restart as well.
- ``fallback_line`` / ``declined_line``: the bot's own lines in the customer's language.

All matching is on folded text (lower case, no accents, apostrophes as spaces).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from inbox_tui.ai.text import STOPWORDS, fold, words

LANGUAGES = ("en", "es", "de", "fr", "pt", "it")

_ENGLISH_FALLBACK = "I'm not sure about that one. Would you like me to connect you with a teammate?"

#: The bot's "I cannot help with that; shall I get a teammate?" line.
FALLBACK_LINES: dict[str, str] = {
    "en": _ENGLISH_FALLBACK,
    "es": "No estoy seguro de eso. ¿Quieres que te ponga en contacto con un compañero del equipo?",
    "de": "Da bin ich mir nicht sicher. Soll ich dich mit einem Teammitglied verbinden?",
    "fr": "Je ne suis pas sûr de pouvoir répondre. Voulez-vous que je vous mette en relation avec un membre de l'équipe ?",
    "pt": "Não tenho a certeza sobre isso. Queres que te ponha em contacto com um colega da equipa?",
    "it": "Non ne sono sicuro. Vuoi che ti metta in contatto con un collega del team?",
}

#: The answer to a "no" after the offer: the bot stays.
DECLINED_LINES: dict[str, str] = {
    "en": "No problem. What else can I help you with?",
    "es": "De acuerdo. ¿En qué más puedo ayudarte?",
    "de": "Kein Problem. Wobei kann ich dir sonst helfen?",
    "fr": "Pas de souci. Puis-je vous aider pour autre chose ?",
    "pt": "Sem problema. Em que mais posso ajudar?",
    "it": "Nessun problema. In cos'altro posso aiutarti?",
}

ACCEPTED_OFFER_REASON = "accepted the offer of a teammate"
ASKED_FOR_PERSON_REASON = "The customer asked for a person."

# -- requests for a person ----------------------------------------------------------------

_A = r"(?:a |an |the |some |one |your |to |with )*"
_EN_PERSON = (
    r"(?:(?:real|actual|live|human|proper|physical) )?(?:human(?: being)?s?|person|people|someone|somebody|anyone|anybody|"
    r"agent|operator|representative|rep|advisor|adviser|consultant|customer (?:service|support|care)|"
    r"support (?:team|staff|person|agent)|service desk|help ?desk|staff(?: member)?|teammate|team member|"
    r"employee|manager|supervisor|colleague|associate|specialist)"
)
_ES_PERSON = (
    r"(?:humano|humana|persona(?: real| de verdad)?|alguien(?: real| del equipo| de soporte)?|agente|operador|operadora|"
    r"asesor|asesora|representante|atencion al cliente|servicio al cliente|soporte|companero|"
    r"empleado|empleada|encargado|responsable|supervisor|gestor|gestora|ejecutivo)"
)
_DE_PERSON = (
    r"(?:mensch|menschen|person|echte[nm]? person|jemand(?:e[nm])?|mitarbeiter(?:in)?|berater(?:in)?|kundenberater(?:in)?|"
    r"kundenservice|kundendienst|kundenbetreuer(?:in)?|support|servicemitarbeiter(?:in)?|ansprechpartner(?:in)?|"
    r"operator|agent(?:en|in)?|sachbearbeiter(?:in)?|vorgesetzten|kollege|kollegen|kollegin|teammitglied)"
)
_FR_PERSON = (
    r"(?:humain|humaine|personne(?: reelle| physique)?|quelqu un|agent|operateur|operatrice|conseiller|conseillere|"
    r"service client|service clientele|support|representant|representante|collaborateur|collaboratrice|"
    r"responsable|employe|employee|interlocuteur|vrai quelqu un)"
)
_PT_PERSON = (
    r"(?:humano|humana|pessoa(?: real| de verdade)?|alguem(?: real| da equipa| da equipe)?|atendente|agente|operador|"
    r"operadora|assistente|consultor|consultora|representante|apoio ao cliente|atendimento(?: humano| ao cliente)?|"
    r"servico ao cliente|suporte|colaborador|colaboradora|funcionario|funcionaria|colega)"
)
_IT_PERSON = (
    r"(?:umano|umana|persona(?: reale| vera| in carne e ossa)?|qualcuno|operatore|operatrice|agente|consulente|"
    r"assistenza clienti|servizio clienti|supporto|rappresentante|addetto|addetta|impiegato|collega|responsabile)"
)

HUMAN_REQUEST_PATTERNS: dict[str, list[str]] = {
    "en": [
        rf"\b(?:talk|speak|chat|connect|transfer|put|pass|forward|hand|escalate|switch|take)(?: me)?(?: over| through)? (?:to|with|through to) {_A}{_EN_PERSON}\b",
        rf"\b(?:want|need|get|give|like|request|ask for|call|reach|bring|contact|have|find|prefer)(?: me)? {_A}(?:speak to |talk to )?{_A}(?:real |actual |live |human )?(?:human(?: being)?|person|agent|operator|representative|rep|advisor|adviser|customer (?:service|support|care)|staff member|teammate|supervisor|manager|someone (?:real|from (?:your|the) (?:team|staff|support)|who works))\b(?! (?:model|sample|example|size|version))",
        r"\b(?:real|actual|live|human) (?:person|human|agent|being|people|support|operator|representative)\b",
        r"\b(?:not|no|stop|without|instead of) (?:a |the |this )?(?:bot|robot|machine|chatbot|ai|automated)\b",
        r"\b(?:don t|do not|dont) want (?:to (?:talk|speak|chat) (?:to|with) )?(?:a |the |this |your )?(?:bot|robot|machine|chatbot|ai)\b",
        r"\b(?:someone|somebody|a person|an agent|a human|a teammate) (?:from (?:support|your team|the team|customer service|your staff) )?(?:contact|call|ring|email|reach|help) me\b",
        r"\bescalate (?:this |it |me |my \w+ )?to\b",
        rf"^(?:{_EN_PERSON})(?: please| pls| now)?\W*$",
        r"\bis (?:there|anyone|anybody|someone|somebody) (?:there|real|human|a human|a person|an agent|i can talk to|to talk to)\b",
        r"\b(?:human|agent|operator|representative|person),? please\b",
        r"\bget (?:a |me a )?(?:human|person|agent|someone) (?:on|in) (?:here|the line|the chat)\b",
    ],
    "es": [
        rf"\b(?:hablar|comunicar(?:me)?|comunicas|comunicame|transfieres|pasas|pones|contactar|chatear|conversar|pasar(?:me)?|ponerme|ponme|transferir(?:me)?|comunica(?:me)?|pasa(?:me)?|derivar(?:me)?|escalar) (?:con |a |en contacto con |con algun |con un |con una |al |con el |con la )*{_ES_PERSON}\b",
        r"\b(?:quiero|necesito|prefiero|quisiera|pido|solicito|busco|deseo|dame|podria|puede|puedes)(?: hablar| tener| que me atienda| que me atienda una)? (?:con |un |una |a |al |el |la )*(?:humano|humana|persona real|persona|agente|operador|operadora|asesor|asesora|representante|atencion humana|alguien real|alguien del equipo|un companero)\b",
        r"\b(?:persona|agente|humano) (?:real|de verdad|de carne y hueso)\b",
        r"\batencion (?:humana|personal(?:izada)?)\b",
        r"\b(?:no|sin) (?:un |una |el |la |con un |con una )?(?:bot|robot|maquina|chatbot|ia)\b",
        rf"^(?:{_ES_PERSON})(?: por favor| ya| ahora)?\W*$",
        r"\b(?:hay|existe) (?:alguien|alguna persona|algun humano|un humano|una persona)(?: real)?(?: ahi| al otro lado| con quien)?\b",
        r"\b(?:humano|agente|operador|persona),? por favor\b",
        r"\bque me atienda (?:alguien|una persona|un humano|un agente|un asesor)\b",
    ],
    "de": [
        rf"\b(?:sprechen|reden|chatten|verbinden|verbindet|verbinde|weiterleiten|durchstellen|schreiben|kontakt|verbunden|stellen|stell|leiten|leite|leitet)\b.{{0,40}}\b(?:mit|zu|an) (?:einem |einer |einen |dem |der |den |ihrem |eurem |echten |richtigen |menschlichen )*{_DE_PERSON}\b",
        rf"\b(?:mit|zu|an) (?:einem |einer |einen |dem |der |den |ihrem |eurem |echten |richtigen |menschlichen )*{_DE_PERSON}(?: (?:vom|von|aus dem) \w+)? (?:sprechen|reden|chatten|verbinden|verbunden|schreiben)\b",
        rf"\b(?:einen|eine|einem|den|die) (?:echten |richtigen )?{_DE_PERSON} (?:sprechen|erreichen)\b",
        r"\b(?:mochte|will|brauche|hatte gern|hatte gerne|wunsche|verlange|bitte|gebt mir|geben sie mir) (?:gerne |gern |bitte |jetzt |sofort )*(?:einen |eine |einem |mit einem |mit einer )*(?:echten |richtigen |menschlichen )*(?:menschen|mensch|person|mitarbeiter|mitarbeiterin|berater|beraterin|kundenberater|kundenberaterin|ansprechpartner|kundenservice|kundendienst|support|operator|agenten|sachbearbeiter)\b",
        r"\b(?:echte[nmr]?|richtige[nmr]?|lebendige[nmr]?) (?:mensch|menschen|person|mitarbeiter)\b",
        r"\b(?:kein|keinen|nicht mit dem|nicht mit einem|ohne) (?:bot|roboter|chatbot|maschine|ki)\b",
        rf"^(?:{_DE_PERSON})(?: bitte| jetzt| sofort)?\W*$",
        r"\b(?:ist|gibt es) (?:da |hier )?(?:jemand|ein mensch|einen menschen|eine person|ein mitarbeiter|einen mitarbeiter)\b.{0,20}(?:echt|mensch|da|erreichen|sprechen)?",
        r"\bmenschliche[nrs]? (?:hilfe|unterstutzung|ansprechpartner|beratung|kontakt)\b",
    ],
    "fr": [
        rf"\b(?:parler|discuter|echanger|passer|transferer|mettre en (?:relation|contact)|joindre|contacter|avoir|etre mis en relation|mettez moi en (?:relation|contact)|passez moi|transferez moi)\b.{{0,25}}\b(?:a |avec |au |un |une |le |la |l )*{_FR_PERSON}\b",
        r"\b(?:je veux|je voudrais|j aimerais|je souhaite|je souhaiterais|je demande|il me faut|puis je avoir|pouvez vous me passer|besoin d)(?: parler a| parler avec| joindre| avoir| contacter)? (?:un |une |le |la |l |au |a |avec )*(?:humain|humaine|vraie personne|personne reelle|conseiller|conseillere|operateur|operatrice|agent|service client|representant|quelqu un)\b",
        r"\b(?:vrai|vraie|veritable) (?:personne|humain|conseiller|agent|interlocuteur)\b",
        r"\bpersonne (?:reelle|physique|en chair et en os)\b",
        r"\b(?:pas|plus|non|sans) (?:un |une |de |le |au |avec un |avec le )?(?:bot|robot|machine|chatbot|ia)\b",
        rf"^(?:{_FR_PERSON})(?: svp| s il vous plait| s il te plait| maintenant)?\W*$",
        r"\by a t il (?:quelqu un|un humain|une personne|un conseiller)\b",
        r"\b(?:humain|conseiller|agent|operateur),? (?:svp|s il vous plait)\b",
        r"\b(?:contact|interlocuteur|intervention) humain\b",
    ],
    "pt": [
        rf"\b(?:falar|conversar|comunicar|passar|transferir|ligar|encaminhar|contactar|contatar|passe|passa|transfira|transfere)(?:-me|me)?\b.{{0,20}}\b(?:com |a |ao |para |um |uma |o |a |algum |alguma )*{_PT_PERSON}\b",
        r"\b(?:quero|queria|preciso|prefiro|gostaria de|pode|podes|posso|solicito|peco)(?: falar| ter| ser atendido por| ser atendida por)?(?: com)? (?:um |uma |o |a |ao )*(?:humano|humana|pessoa real|pessoa|atendente|agente|operador|operadora|assistente humano|consultor|consultora|representante|atendimento humano|alguem real|alguem da equipa|alguem da equipe)\b",
        r"\b(?:pessoa|atendente|humano) (?:real|de verdade|de carne e osso)\b",
        r"\batendimento (?:humano|pessoal)\b",
        r"\b(?:nao|sem) (?:um |uma |o |a |com um |com o )?(?:bot|robo|maquina|chatbot|ia)\b",
        rf"^(?:{_PT_PERSON})(?: por favor| ja| agora)?\W*$",
        r"\b(?:ha|tem|existe) (?:alguem|alguma pessoa|algum humano|um humano|uma pessoa)(?: real)?(?: ai| do outro lado)?\b",
        r"\b(?:humano|atendente|agente|pessoa),? por favor\b",
    ],
    "it": [
        rf"\b(?:parlare|chattare|mettermi in contatto|mettetemi in contatto|passarmi|passami|passatemi|passi|passate|trasferirmi|trasferire|contattare|sentire|essere messo in contatto)\b.{{0,20}}\b(?:con |a |al |un |una |il |la |l |lo )*{_IT_PERSON}\b",
        r"\b(?:voglio|vorrei|ho bisogno di|mi serve|chiedo|preferisco|potrei|posso)(?: parlare| avere| sentire)?(?: con)? (?:un |una |il |la |l |lo |al )*(?:umano|umana|persona reale|persona vera|persona|operatore|operatrice|agente|consulente|rappresentante|assistenza umana|qualcuno del team|qualcuno dello staff)\b",
        r"\b(?:persona|operatore|umano) (?:reale|vero|vera|in carne e ossa)\b",
        r"\bassistenza (?:umana|personale)\b",
        r"\b(?:non|senza|basta) (?:un |una |il |la |col |con il |con un )?(?:bot|robot|macchina|chatbot|ia)\b",
        rf"^(?:{_IT_PERSON})(?: per favore| subito| adesso)?\W*$",
        r"\bc e (?:qualcuno|un umano|una persona|un operatore)(?: reale| vero)?\b",
        r"\b(?:operatore|umano|persona),? per favore\b",
    ],
}


def _compile(patterns: Iterable[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


_HUMAN_REQUEST = _compile(p for group in HUMAN_REQUEST_PATTERNS.values() for p in group)


def _normalize(text: str) -> str:
    return " ".join(words(text))


# Beyond the patterns: a word for a person near a word for reaching one, in any order
# and any of the six languages ("transferred to someone who can help", "quiero que me
# pasen con un agente"), unless the sentence is about something else that person does
# ("can someone sign for the delivery", "how many people work there", "talk about
# prices").
_PERSON_WORDS = frozenset(
    [
        "human",
        "humans",
        "person",
        "someone",
        "somebody",
        "anyone",
        "anybody",
        "agent",
        "agents",
        "operator",
        "operators",
        "representative",
        "rep",
        "advisor",
        "adviser",
        "consultant",
        "staff",
        "teammate",
        "employee",
        "manager",
        "supervisor",
        "colleague",
        "specialist",
        "helpdesk",
        "charge",
        "humano",
        "humana",
        "persona",
        "alguien",
        "agente",
        "operador",
        "operadora",
        "asesor",
        "asesora",
        "representante",
        "companero",
        "empleado",
        "encargado",
        "supervisor",
        "gestor",
        "soporte",
        "especialista",
        "responsable",
        "tecnico",
        "mensch",
        "menschen",
        "jemand",
        "jemanden",
        "jemandem",
        "mitarbeiter",
        "mitarbeiterin",
        "berater",
        "beraterin",
        "kundenberater",
        "kundenberaterin",
        "kundenservice",
        "kundendienst",
        "support",
        "ansprechpartner",
        "sachbearbeiter",
        "kollege",
        "kollegen",
        "kollegin",
        "vorgesetzten",
        "teammitglied",
        "spezialist",
        "spezialisten",
        "verantwortlichen",
        "verantwortliche",
        "zustandig",
        "collegue",
        "collegues",
        "humain",
        "humaine",
        "personne",
        "quelqu",
        "operateur",
        "operatrice",
        "conseiller",
        "conseillere",
        "representant",
        "responsable",
        "interlocuteur",
        "specialiste",
        "membre",
        "technique",
        "pessoa",
        "alguem",
        "atendente",
        "consultor",
        "consultora",
        "suporte",
        "atendimento",
        "colega",
        "funcionario",
        "funcionaria",
        "especialista",
        "responsavel",
        "tecnico",
        "umano",
        "umana",
        "qualcuno",
        "operatore",
        "operatrice",
        "consulente",
        "assistenza",
        "supporto",
        "rappresentante",
        "addetto",
        "addetta",
        "collega",
        "specialista",
        "membro",
        "tecnica",
        "responsabile",
        "team",
        "equipe",
        "equipa",
        "equipo",
    ]
)
_PERSON_PHRASES = (
    "customer service",
    "customer support",
    "customer care",
    "help desk",
    "your team",
    "atencion al cliente",
    "servicio al cliente",
    "service client",
    "apoio ao cliente",
    "servico ao cliente",
    "servizio clienti",
    "assistenza clienti",
)
#: Words of a human being as such: helping is enough ("can a human help me").
_HUMAN_WORDS = frozenset(
    ["human", "humans", "humano", "humana", "mensch", "menschen", "humain", "humaine", "umano", "umana"]
)
_REACH_WORDS = frozenset(
    [
        "talk",
        "talking",
        "speak",
        "speaking",
        "chat",
        "chatting",
        "connect",
        "transfer",
        "transferred",
        "put",
        "pass",
        "forward",
        "escalate",
        "reach",
        "contact",
        "call",
        "ring",
        "available",
        "route",
        "take",
        "over",
        "message",
        "free",
        "pone",
        "hablar",
        "habla",
        "hable",
        "pasar",
        "pasen",
        "pasa",
        "pasame",
        "pase",
        "comunicar",
        "comunicame",
        "comunicas",
        "comuniquen",
        "poner",
        "ponme",
        "pongan",
        "transferir",
        "transfieres",
        "transfiera",
        "atender",
        "atiende",
        "atienda",
        "atiendan",
        "contactar",
        "llamar",
        "llamen",
        "derivar",
        "disponible",
        "encargarse",
        "encargue",
        "llame",
        "libre",
        "sprechen",
        "reden",
        "chatten",
        "verbinden",
        "verbinde",
        "verbindet",
        "weiterleiten",
        "leiten",
        "leitet",
        "durchstellen",
        "stellen",
        "anrufen",
        "zuruckrufen",
        "ruft",
        "ubernehmen",
        "ubernimmt",
        "frei",
        "verfugbar",
        "ansehen",
        "parler",
        "discuter",
        "passer",
        "passez",
        "mettre",
        "mettez",
        "transferer",
        "transfere",
        "transferee",
        "transferez",
        "joindre",
        "contacter",
        "rappeler",
        "rappelle",
        "rappeliez",
        "relais",
        "libre",
        "regarde",
        "falar",
        "fale",
        "conversar",
        "passar",
        "passem",
        "passe",
        "ligar",
        "liga",
        "ligue",
        "transferir",
        "transfira",
        "transferido",
        "atender",
        "atenda",
        "contactar",
        "contatar",
        "encaminhar",
        "disponivel",
        "assumir",
        "ligue",
        "livre",
        "passem",
        "veja",
        "parlare",
        "parli",
        "chattare",
        "passare",
        "passato",
        "passata",
        "passami",
        "passi",
        "mettere",
        "mettimi",
        "mettetemi",
        "trasferire",
        "trasferito",
        "contattare",
        "richiamare",
        "richiamarmi",
        "richiami",
        "sentire",
        "disponibile",
        "subentrare",
        "libero",
        "passatemi",
        "controlli",
    ]
)
_HELP_WORDS = frozenset(
    [
        "help",
        "helps",
        "ayude",
        "ayudar",
        "ayudarme",
        "ayuda",
        "helfen",
        "weiterhelfen",
        "hilft",
        "aider",
        "aide",
        "ajudar",
        "ajude",
        "ajuda",
        "aiutare",
        "aiutarmi",
        "aiuti",
    ]
)
_WANT_PHRASES = (
    "i want",
    "i need",
    "i d like",
    "i would like",
    "give me",
    "get me",
    "can i have",
    "can i get",
    "quiero",
    "necesito",
    "quisiera",
    "prefiero",
    "dame",
    "ich mochte",
    "ich will",
    "ich brauche",
    "ich hatte gern",
    "ich wunsche",
    "je veux",
    "je voudrais",
    "j aimerais",
    "je souhaite",
    "besoin d",
    "quero",
    "queria",
    "gostaria",
    "preciso",
    "voglio",
    "vorrei",
    "ho bisogno",
    "mi serve",
    "i d need",
    "i need to reach",
)
#: What a person may do that is not talking to the customer.
_ELSEWHERE = re.compile(
    r"\b(?:sign|signs|firme|firmar|unterschreiben|signe|signer|"
    r"assinar|assine|firmare|firmi|pick up|picks up|recoger|recoja|annehmen|abholen|recuperer|receber|"
    r"ritirare|how many|cuantas|cuantos|wie viele|combien|quantas|quantos|quante|quanti|work in|works in|"
    r"trabajan|arbeiten|travaillent|trabalham|lavorano|based in|e preciso|hace falta|contact person|"
    r"persona de contacto|personne de contact|pessoa de contacto|pessoa de contato|persona di contatto|"
    r"kontaktperson|humans only|only humans)\b"
)
#: A reaching word followed by "about" talks about a subject, not to a person.
_ABOUT = frozenset(["about", "de", "del", "sobre", "uber", "du", "des", "do", "da", "di", "della", "su"])
_NEAR = 6


def _person_positions(tokens: list[str]) -> list[int]:
    positions = [
        i
        for i, t in enumerate(tokens)
        if t in _PERSON_WORDS and not (t == "personne" and i + 1 < len(tokens) and tokens[i + 1] in ("ne", "n"))
    ]
    joined = " ".join(tokens)
    for phrase in _PERSON_PHRASES:
        start = joined.find(phrase)
        if start >= 0:
            positions.append(joined[:start].count(" "))
    return positions


#: "Any humans around?", "Il y a un humain ?", "Está aí alguém de verdade?"
_SOMEONE_THERE = re.compile(
    r"\b(?:is there|are there|any|il y a|y a t il|c e|hay|esta ai|tem ai|gibt es|ist (?:hier|da))"
    r"(?: \w+){0,3}? (?:humans?|human being|real person|humano|humana|mensch|menschen|humain|humaine|umano|umana|"
    r"essere umano|alguem de verdade|alguien de verdad|someone real|somebody real)\b"
)
_FLESH_AND_BLOOD = re.compile(
    r"\b(?:alguien|alguem|qualcuno|jemand|quelqu un|someone|somebody) (?:de verdad|de verdade|de carne y hueso|"
    r"de carne e osso|in carne e ossa|aus fleisch und blut|en chair et en os|real|vero|echtes)\b"
)
#: "Who can I talk to?"
_WHO_TO_REACH = re.compile(
    r"\b(?:who (?:can|could|do|should) i (?:talk|speak|chat) (?:to|with)|con quien (?:puedo |podria )?(?:hablar|hablo)|"
    r"mit wem (?:kann ich |konnte ich )?(?:sprechen|reden)|a qui (?:puis je |pourrais je )?(?:parler|m adresser)|"
    r"com quem (?:posso |poderia )?(?:falar|falo)|con chi (?:posso |potrei )?(?:parlare|parlo)|"
    r"who s in charge|who is in charge|quien es el responsable|quien esta a cargo|wer ist (?:\w+ ){0,3}zustandig|"
    r"qui est (?:le )?responsable|quem e o responsavel|chi e il responsabile)\b"
)
#: Fed up with the bot: "enough of this chatbot", "genug vom Chatbot".
_FED_UP = re.compile(
    r"\b(?:enough|tired|fed up|sick|harto|harta|basta|genug|satt|assez|marre|chega|farto|farta|stufo|stufa)\b"
    r"(?: \w+){0,3} (?:bot|bots|chatbot|robot|robo|maquina|machine|macchina|automat|ki|ia|ai)\b"
)


def _reaches_a_person(folded: str) -> bool:
    if any(p.search(folded) for p in (_WHO_TO_REACH, _SOMEONE_THERE, _FLESH_AND_BLOOD, _FED_UP)):
        return True
    tokens = folded.split()
    if not tokens:
        return False
    people = _person_positions(tokens)
    if not people:
        return False
    for i, token in enumerate(tokens):
        near = [p for p in people if abs(p - i) <= _NEAR]
        if not near:
            continue
        if token in _REACH_WORDS and not (i + 1 < len(tokens) and tokens[i + 1] in _ABOUT):
            return True
        if token in _HELP_WORDS and any(tokens[p] in _HUMAN_WORDS for p in near):
            return True
    padded = f" {folded} "
    for phrase in _WANT_PHRASES:
        start = padded.find(f" {phrase} ")
        if start >= 0:
            at = padded[: start + 1].count(" ") + phrase.count(" ")
            if any(0 < p - at <= 4 for p in people):
                return True
    return False


#: Every rule above needs one of these words (a person, a bot, "who", "escalate"), or
#: an inflection of one (compared on their first five letters): a message with none of
#: them skips the patterns, which keeps the bot's hot path short.
_ANCHORS = frozenset(
    word[:5]
    for word in {
        w
        for group in (
            _EN_PERSON,
            _ES_PERSON,
            _DE_PERSON,
            _FR_PERSON,
            _PT_PERSON,
            _IT_PERSON,
            *_PERSON_PHRASES,
            *_PERSON_WORDS,
            *_HUMAN_WORDS,
        )
        for w in re.findall(r"[a-z]+", group)
        if len(w) >= 3 and w not in STOPWORDS
    }
    | {
        "bot",
        "bots",
        "robot",
        "robo",
        "chatbot",
        "machine",
        "maquina",
        "macchina",
        "automat",
        "automated",
        "ki",
        "ia",
        "ai",
        "who",
        "wem",
        "qui",
        "quem",
        "chi",
        "quien",
        "charge",
        "escalate",
        "atencion",
        "menschliche",
        "umano",
        "umana",
        "essere",
        "anyone",
        "anybody",
        "someone",
        "somebody",
    }
)


def _may_ask_for_human(folded: str) -> bool:
    return any(token[:5] in _ANCHORS for token in folded.split())


def asks_for_human(text: str, extra_phrases: Iterable[str] = ()) -> bool:
    """Whether the customer asks for a person, in one of the six languages or with one
    of the team's own ``extra_phrases`` (matched as whole words, accents optional)."""
    folded = _normalize(text)
    if (
        _may_ask_for_human(folded)
        and not _ELSEWHERE.search(folded)
        and (_HUMAN_REQUEST.search(folded) or _reaches_a_person(folded))
    ):
        return True
    padded = f" {folded} "
    return any(f" {_normalize(p)} " in padded for p in extra_phrases if _normalize(p))


# -- the offer and the answer to it ----------------------------------------------------------

_OFFER = _compile(
    [
        r"\b(?:connect|put) you (?:with|in touch with|through to) (?:a |an |one of our )?(?:teammate|team member|human|person|colleague|agent)",
        r"\b(?:ponga|pongo|poner) en contacto con\b",
        r"\bte (?:paso|transfiero) con\b",
        r"\b(?:verbinde|verbinden) (?:dich|sie|euch) mit\b",
        r"\bmit (?:einem|einer) (?:teammitglied|mitarbeiter(?:in)?|kollegen|kollegin|menschen) (?:zu )?verbinden\b",
        r"\b(?:mette|mettre|mets) en relation avec\b",
        r"\b(?:ponha|ponho|por) em contacto com\b",
        r"\b(?:ponha|ponho|por) em contato com\b",
        r"\bligar-te a\b",
        r"\b(?:metta|metto|mettere) in contatto con\b",
    ]
)


_BUILT_IN_OFFERS = frozenset(" ".join(words(line)) for line in FALLBACK_LINES.values())


def offers_teammate(bot_line: str, configured_fallback: str = "") -> bool:
    """Whether a bot line offered to bring in a teammate (ours, or the configured one)."""
    folded = _normalize(bot_line)
    if folded in _BUILT_IN_OFFERS or (configured_fallback and folded == _normalize(configured_fallback)):
        return True
    return bot_line.rstrip().endswith("?") and bool(_OFFER.search(fold(bot_line)))


_YES = {
    "yes",
    "yeah",
    "yep",
    "yup",
    "ya",
    "sure",
    "ok",
    "okay",
    "please",
    "pls",
    "absolutely",
    "definitely",
    "certainly",
    "course",
    "go",
    "do",
    "y",
    "alright",
    "fine",
    "si",
    "claro",
    "vale",
    "dale",
    "porfa",
    "bueno",
    "venga",
    "perfecto",
    "adelante",
    "exacto",
    "ja",
    "gerne",
    "gern",
    "bitte",
    "klar",
    "jawohl",
    "jo",
    "jep",
    "genau",
    "natuerlich",
    "naturlich",
    "gut",
    "oui",
    "ouais",
    "volontiers",
    "daccord",
    "accord",
    "svp",
    "bien",
    "allez",
    "parfait",
    "sim",
    "pode",
    "quero",
    "isso",
    "certo",
    "beleza",
    "favor",
    "certamente",
    "volentieri",
    "grazie",
    "prego",
    "sicuro",
    "perfetto",
    "va",
    "bene",
}
_NO = {
    "no",
    "nope",
    "nah",
    "not",
    "dont",
    "don",
    "never",
    "nein",
    "nee",
    "ne",
    "nicht",
    "kein",
    "non",
    "nao",
    "niente",
    "nada",
    "jamais",
    "pas",
    "nunca",
}
#: Words that may follow a yes without making it a new question ("yes please, thanks").
_YES_FILLER = {
    "thanks",
    "thank",
    "you",
    "gracias",
    "danke",
    "merci",
    "obrigado",
    "obrigada",
    "grazie",
    "that",
    "would",
    "be",
    "great",
    "the",
    "a",
    "me",
    "por",
    "favor",
    "s",
    "il",
    "vous",
    "plait",
    "te",
    "per",
    "i",
    "want",
    "to",
    "quiero",
    "que",
    "sim",
    "sehr",
    "gerne",
    "mit",
    "einem",
    "teammitglied",
    "lo",
    "la",
    "faz",
    "pf",
    "it",
    "de",
    "acuerdo",
    "with",
    "connect",
    "one",
    "favore",
    "vorrei",
    "nice",
    "good",
    "right",
    "now",
    "ahead",
    "on",
    "do",
    "ahora",
    "jetzt",
    "agora",
    "adesso",
    "maintenant",
    "just",
    "d",
    "like",
    "claro",
    "molto",
    "mille",
    "muchas",
    "muito",
    "vielen",
    "beaucoup",
    "tout",
}


def answer_to_offer(text: str) -> bool | None:
    """True for a yes, False for a no, None when the message is about something else."""
    tokens = words(text)
    if not tokens or len(tokens) > 8:
        return None
    if any(t in _NO for t in tokens) and not (
        tokens[0] in _YES and tokens[0] not in {"no"} and "not" not in tokens and "nicht" not in tokens
    ):
        return False
    if tokens[0] in _YES and all(t in _YES or t in _YES_FILLER for t in tokens):
        return True
    return None


def line_for(lines: dict[str, str], language: str | None) -> str:
    return lines.get(language or "en", lines["en"])


def fallback_line(language: str | None, configured: str) -> str:
    """The fallback in the customer's language when the team kept the built-in one;
    the team's own text as it is."""
    if configured.strip() != _ENGLISH_FALLBACK:
        return configured
    return line_for(FALLBACK_LINES, language)


def declined_line(language: str | None) -> str:
    return line_for(DECLINED_LINES, language)
