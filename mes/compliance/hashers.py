"""The hasher for signing PINs.

A 6-12 digit PIN has at most 10^12 values (usually 10^6): however many PBKDF2 rounds guard it, a
stolen hash falls to an offline search. What protects a PIN is online: signing locks after a few
wrong entries (21 CFR 11.300) and PIN hashes never leave the database. So PIN hashes use fewer rounds
than passwords — enough to make a search cost something, cheap enough that an operator signing every
step on a busy cell does not wait on the server's CPU."""

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class SigningPinHasher(PBKDF2PasswordHasher):
    algorithm = "pbkdf2_sha256_pin"
    iterations = 60_000
