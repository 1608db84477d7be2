"""/v1/settings: what the publisher sets for the whole deployment, the frequency cap (admin only)."""

from __future__ import annotations

from chalice import Response  # type: ignore[attr-defined]

from subcast.adapters.publishing import ApiKey, PublisherSettings
from subcast.publisher_api.http import Routes, json_response
from subcast.publisher_api.schemas import SettingsOut, dump
from subcast.services.api_keys import Scope
from subcast.services.dependencies import publishing_store
from subcast.services.publisher_settings import (
    CapSetting,
    SettingsUpdate,
    change_publisher_settings,
    publisher_settings,
)

routes = Routes("settings")


def settings_out(settings: PublisherSettings) -> SettingsOut:
    return SettingsOut(frequency_cap=CapSetting.of(settings.frequency_cap), updated_at=settings.updated_at)


@routes.route("/v1/settings", "GET", Scope.ADMIN, response=SettingsOut)
def get_settings_view(key: ApiKey) -> Response:
    """The publisher's settings: the frequency cap every subscriber gets (null: none)."""
    return json_response(200, dump(settings_out(publisher_settings(publishing_store()))))


@routes.route(
    "/v1/settings", "PUT", Scope.ADMIN, body=SettingsUpdate, response=SettingsOut, errors=(400, 413, 415)
)
def update_settings_view(key: ApiKey) -> Response:
    """Replace the settings; ``"frequency_cap": null`` removes the cap. Senders follow within a minute."""
    changed = change_publisher_settings(publishing_store(), routes.body(SettingsUpdate))
    return json_response(200, dump(settings_out(changed)))
