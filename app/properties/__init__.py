"""The property register: parcels by registry plate, their cases, documents and violations."""
