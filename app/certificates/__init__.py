"""Documents the processes issue: permits, certificates, inquiry answers."""
