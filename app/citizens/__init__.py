"""Citizens: sign-in by mobile and one-time code, profile, legal persons and attorneys."""
