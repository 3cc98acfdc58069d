"""Cases: one citizen request moving through its BPMN process, with its tasks and history."""
