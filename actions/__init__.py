"""Custom actions of the portal assistant (rasa-sdk), run by ``rasa run actions --actions actions``.

One thin module per topic: :mod:`.booking`, :mod:`.cancel` (and rescheduling),
:mod:`.prescriptions`, :mod:`.records`, :mod:`.common` (language, fallback, handoff); the forms
share :mod:`.forms`; :mod:`.dates` parses dates; :mod:`.vocabulary` maps words to the hub's
codes; :mod:`.texts` holds what actions say in Polish and English; :mod:`.api` is the hub's
HTTP client. Nothing here touches the database: the portal is reached only over its REST API,
as the patient.
"""
