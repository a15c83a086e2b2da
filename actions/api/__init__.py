"""The assistant's only way into the portal: its REST API, called as the patient.

Actions never touch the database. Each call carries the patient's delegated bearer token from
the chat message's metadata, so the assistant can do nothing the patient could not.
"""

from .client import HubClient, hub_url
from .errors import HubError, HubProblem, HubUnavailable, LoginRequired

__all__ = ["HubClient", "HubError", "HubProblem", "HubUnavailable", "LoginRequired", "hub_url"]
