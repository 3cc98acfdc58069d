"""Through the engine: a bad plate stops the step as an incident that names the service task."""

from __future__ import annotations

from typing import Any

from app.accounts.services import ensure_citizen, ensure_district
from app.cases import services
from app.cases.models import Case, CaseStatus
from app.db import db
from app.processes.models import ProcessVersion
from app.properties.services import property_of_case

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="defs" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="property_probe" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:serviceTask id="register_parcel" name="ثبت ملک">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="register_property" resultVariable="parcel">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="plate" type="dict" value="plate"/>
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="register_parcel"/>
    <bpmn:sequenceFlow id="f2" sourceRef="register_parcel" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


def _start(data: dict[str, Any]) -> Case:
    version = ProcessVersion(
        process_key="property_probe",
        number=1,
        content_hash="property-probe",
        files={"process.bpmn": BPMN},
        forms={},
        card={},
    )
    db.session.add(version)
    db.session.flush()
    citizen = ensure_citizen("09140001001", "علی کریمی", "1360524185")
    district = ensure_district("09", "منطقه ۹", "District 9")
    return services.start_case(
        version, applicant=citizen, district=district, data=data, actor=citizen
    )


def test_an_invalid_plate_is_an_incident_on_the_service_task(app: Any) -> None:
    case = _start({"plate": {"section": "3", "main": "۱۲-الف"}})

    assert case.status == CaseStatus.INCIDENT
    assert case.incident is not None
    assert case.incident["element_id"] == "register_parcel"
    assert "invalid registry plate" in case.incident["message"]
    assert property_of_case(case.id) is None


def test_a_valid_plate_links_the_case_and_the_process_goes_on(app: Any) -> None:
    case = _start({"plate": {"section": "۳", "main": "۱۲۵", "sub": "۴۲۱۷"}})

    assert case.status == CaseStatus.COMPLETED, case.incident
    prop = property_of_case(case.id)
    assert prop is not None
    assert case.registry_plate == prop.key == "3/125/4217"
