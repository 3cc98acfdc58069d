"""Process versions: every deployed package of BPMN, DMN, forms and service card, immutable."""
