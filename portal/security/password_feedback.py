"""zxcvbn's feedback (its warnings and suggestions are English sentences, looked up here), so that a weak
password is explained in the reader's language. The sentences are zxcvbn 4.5's own; one missing here is shown
as zxcvbn wrote it."""
from flask_babel import lazy_gettext as _l

FEEDBACK = {
    'Use a few words, avoid common phrases.': _l('Use a few words, avoid common phrases.'),
    'No need for symbols, digits, or uppercase letters.': _l('No need for symbols, digits, or uppercase letters.'),
    'Add another word or two. Uncommon words are better.': _l('Add another word or two. Uncommon words are better.'),
    'Straight rows of keys are easy to guess.': _l('Straight rows of keys are easy to guess.'),
    'Short keyboard patterns are easy to guess.': _l('Short keyboard patterns are easy to guess.'),
    'Use a longer keyboard pattern with more turns.': _l('Use a longer keyboard pattern with more turns.'),
    'Repeats like "aaa" are easy to guess.': _l('Repeats like "aaa" are easy to guess.'),
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".': _l('Repeats like "abcabcabc" are only slightly harder to guess than "abc".'),
    'Avoid repeated words and characters.': _l('Avoid repeated words and characters.'),
    'Sequences like "abc" or "6543" are easy to guess.': _l('Sequences like "abc" or "6543" are easy to guess.'),
    'Avoid sequences.': _l('Avoid sequences.'),
    'Recent years are easy to guess.': _l('Recent years are easy to guess.'),
    'Avoid recent years.': _l('Avoid recent years.'),
    'Avoid years that are associated with you.': _l('Avoid years that are associated with you.'),
    'Dates are often easy to guess.': _l('Dates are often easy to guess.'),
    'Avoid dates and years that are associated with you.': _l('Avoid dates and years that are associated with you.'),
    'This is a top-10 common password.': _l('This is a top-10 common password.'),
    'This is a top-100 common password.': _l('This is a top-100 common password.'),
    'This is a very common password.': _l('This is a very common password.'),
    'This is similar to a commonly used password.': _l('This is similar to a commonly used password.'),
    'A word by itself is easy to guess.': _l('A word by itself is easy to guess.'),
    'Names and surnames by themselves are easy to guess.': _l('Names and surnames by themselves are easy to guess.'),
    'Common names and surnames are easy to guess.': _l('Common names and surnames are easy to guess.'),
    "Capitalization doesn't help very much.": _l("Capitalization doesn't help very much."),
    'All-uppercase is almost as easy to guess as all-lowercase.': _l('All-uppercase is almost as easy to guess as all-lowercase.'),
    "Reversed words aren't much harder to guess.": _l("Reversed words aren't much harder to guess."),
    "Predictable substitutions like '@' instead of 'a' don't help very much.": _l("Predictable substitutions like '@' instead of 'a' don't help very much."),
}
