"""Text normalisation shared by retrieval and the phrase matchers: case and accent
folding, words, and the function words of the six built-in languages."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[^\W_]+", re.UNICODE)

# Function words that say nothing about a topic, per language. Question words such as
# "where" stay out: "where is my order" is about tracking.
FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        ["a", "an", "the", "and", "or", "but", "if", "of", "to", "in", "on", "at", "by", "for", "from", "with", "about", "as", "into", "than", "then", "so", "too", "very", "i", "me", "my", "mine", "we", "our", "us", "you", "your", "yours", "he", "she", "it", "its", "they", "them", "their", "this", "that", "these", "those", "is", "am", "are", "was", "were", "be", "been", "being", "do", "does", "did", "done", "have", "has", "had", "having", "can", "could", "will", "would", "shall", "should", "may", "might", "must", "not", "no", "yes", "please", "hi", "hello", "hey", "there", "here", "what", "which", "who", "whom", "how", "why", "just", "also", "any", "some", "all", "more", "most", "much", "many", "get", "got", "im", "ive", "dont", "cant", "its", "also", "after", "before", "again", "still", "yet", "only", "now", "when", "while", "during", "until", "since", "ago", "one", "two", "three", "first", "last", "next", "other", "another", "same", "each", "every", "both", "few", "new", "old", "out", "up", "down", "off", "over", "under"]
    ),
    "es": frozenset(
        ["el", "la", "los", "las", "un", "una", "unos", "unas", "y", "o", "pero", "si", "de", "del", "al", "a", "en", "con", "por", "para", "sin", "sobre", "que", "como", "cual", "quien", "es", "son", "soy", "eres", "fue", "ser", "estar", "esta", "este", "esto", "estos", "estas", "esa", "ese", "eso", "hay", "mi", "mis", "tu", "tus", "su", "sus", "nos", "me", "te", "se", "le", "les", "lo", "ya", "muy", "mas", "hola", "favor", "puedo", "puede", "puedes", "quiero"]
    ),
    "de": frozenset(
        ["der", "die", "das", "den", "dem", "des", "ein", "eine", "einen", "einem", "einer", "und", "oder", "aber", "wenn", "von", "zu", "im", "in", "an", "auf", "mit", "fur", "uber", "als", "wie", "was", "wer", "ist", "sind", "bin", "bist", "war", "sein", "hat", "habe", "haben", "hast", "kann", "konnen", "ich", "du", "er", "sie", "es", "wir", "ihr", "mein", "meine", "meinen", "dein", "deine", "sich", "nicht", "kein", "keine", "ja", "nein", "noch", "schon", "auch", "bitte", "hallo", "mal", "doch"]
    ),
    "fr": frozenset(
        ["le", "la", "les", "un", "une", "des", "et", "ou", "mais", "si", "de", "du", "au", "aux", "en", "dans", "sur", "avec", "pour", "par", "sans", "que", "qui", "quoi", "comment", "est", "sont", "suis", "es", "etre", "ai", "avez", "ont", "as", "je", "tu", "il", "elle", "nous", "vous", "ils", "elles", "mon", "ma", "mes", "ton", "ta", "tes", "son", "sa", "ses", "ce", "cet", "cette", "ces", "ne", "pas", "plus", "bonjour", "salut", "peux", "puis", "voudrais", "veux"]
    ),
    "pt": frozenset(
        ["o", "a", "os", "as", "um", "uma", "uns", "umas", "e", "ou", "mas", "se", "de", "do", "da", "dos", "das", "no", "na", "nos", "nas", "em", "com", "por", "para", "sem", "que", "qual", "quem", "e", "sao", "sou", "foi", "ser", "estar", "esta", "este", "isto", "eu", "tu", "ele", "ela", "nos", "voces", "voce", "meu", "minha", "meus", "minhas", "seu", "sua", "nao", "sim", "ola", "posso", "pode", "quero"]
    ),
    "it": frozenset(
        ["il", "lo", "la", "i", "gli", "le", "un", "uno", "una", "e", "o", "ma", "se", "di", "del", "della", "dei", "delle", "da", "in", "con", "su", "per", "tra", "fra", "che", "chi", "come", "cosa", "sono", "sei", "siamo", "ho", "hai", "ha", "abbiamo", "avete", "hanno", "io", "tu", "lui", "lei", "noi", "voi", "loro", "mio", "mia", "miei", "mie", "tuo", "tua", "suo", "sua", "non", "si", "ciao", "posso", "puo", "vorrei", "voglio"]
    ),
}
STOPWORDS = frozenset().union(*FUNCTION_WORDS.values())


def fold(text: str) -> str:
    """Lower-case and strip accents, so 'Atención' matches 'atencion'."""
    lowered = text.lower()
    if not lowered.isascii():
        decomposed = unicodedata.normalize("NFKD", lowered)
        lowered = "".join(c for c in decomposed if not unicodedata.combining(c)).replace("’", " ")
    return lowered.replace("'", " ")


def words(text: str) -> list[str]:
    """The folded words of ``text``."""
    return _WORD.findall(fold(text))


def content_words(text: str) -> list[str]:
    """The words that can say what a question is about: no function words, no numbers."""
    return [w for w in words(text) if w not in STOPWORDS and not w.isdigit() and len(w) > 1]
