"""HTTP API of notifications (contract section 11): channels (managers only), their delivery
log and a test, acknowledging an alert, silences."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from carloan.roles import CanEditOrRead, CanRead, is_manager
from metrics.api import AlertSerializer
from metrics.notify import selectors, services
from metrics.notify.models import Channel, Delivery

TAG = ["notifications"]
CHANNEL_KINDS = [kind for kind, _ in Channel.Kind.choices]
DELIVERY_KINDS = [kind for kind, _ in Delivery.Kind.choices]


class ManagersOnly(BasePermission):
    """Channels hold targets and secrets: managers read and write them."""

    message = "Only managers may see and manage notification channels."

    def has_permission(self, request: Any, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and is_manager(request.user))


class ChannelSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=CHANNEL_KINDS)
    preset = serializers.ChoiceField(
        choices=Channel.Preset.choices,
        help_text="The webhook's payload: generic (contract section 11, signed), wecom, dingtalk "
        "or feishu (their group robots' shapes).",
    )
    target = serializers.CharField()
    department = serializers.ChoiceField(choices=list(services.DEPARTMENTS))
    min_status = serializers.ChoiceField(choices=list(services.MIN_STATUSES))
    enabled = serializers.BooleanField()
    has_secret = serializers.BooleanField(help_text="A secret signs the body; never shown again.")
    failing = serializers.BooleanField(help_text="Its last three finished deliveries failed.")
    created_by = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ChannelInputSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    kind = serializers.ChoiceField(choices=CHANNEL_KINDS, required=False)
    preset = serializers.ChoiceField(choices=Channel.Preset.choices, required=False)
    target = serializers.CharField(
        required=False, max_length=500, help_text="An http(s) URL (webhook) or an e-mail address."
    )
    department = serializers.ChoiceField(choices=list(services.DEPARTMENTS), required=False)
    min_status = serializers.ChoiceField(choices=list(services.MIN_STATUSES), required=False)
    enabled = serializers.BooleanField(required=False)
    secret = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=services.MAX_SECRET,
        write_only=True,
        help_text="Webhooks: signs the body (X-Carloan-Signature). Not answered, ever.",
    )


class ChannelCreateSerializer(ChannelInputSerializer):
    kind = serializers.ChoiceField(choices=CHANNEL_KINDS)
    target = serializers.CharField(max_length=500)
    department = serializers.ChoiceField(choices=list(services.DEPARTMENTS))


class AttemptSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    ok = serializers.BooleanField()
    status_code = serializers.IntegerField(allow_null=True)
    error = serializers.CharField()
    duration_ms = serializers.IntegerField()


class DeliverySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    channel = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=DELIVERY_KINDS)
    alert = serializers.IntegerField(allow_null=True)
    alerts = serializers.ListField(child=serializers.IntegerField())
    status = serializers.ChoiceField(choices=Delivery.Status.choices)
    attempts = serializers.IntegerField()
    last_error = serializers.CharField()
    created_at = serializers.DateTimeField()
    sent_at = serializers.DateTimeField(allow_null=True)
    tries = AttemptSerializer(many=True, help_text="Every attempt, oldest first.")


class DeliveriesQuery(serializers.Serializer):
    channel = serializers.IntegerField(required=False, min_value=1)
    alert = serializers.IntegerField(required=False, min_value=1)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=500, default=50)


class ChannelsView(APIView):
    permission_classes = [ManagersOnly]

    @extend_schema(
        tags=TAG, summary="Notification channels", responses={200: ChannelSerializer(many=True)}
    )
    def get(self, request: Request) -> Response:
        return Response(selectors.channels())

    @extend_schema(
        tags=TAG,
        summary="Add a channel: a webhook or an e-mail address for a department or the managers",
        request=ChannelCreateSerializer,
        responses={
            201: ChannelSerializer,
            400: OpenApiResponse(
                description="A bad field: an invalid URL or address, a loopback or private host "
                "not in NOTIFY_ALLOWED_HOSTS, e-mail without EMAIL_URL."
            ),
        },
    )
    def post(self, request: Request) -> Response:
        form = ChannelCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        channel = services.channel_create(user=request.user, **form.validated_data)
        return Response(selectors.channel_data(channel), status=201)


class ChannelView(APIView):
    permission_classes = [ManagersOnly]

    @extend_schema(
        tags=TAG,
        summary="Change a channel (a secret given replaces the stored one; '' removes it)",
        request=ChannelInputSerializer,
        responses={
            200: ChannelSerializer,
            400: OpenApiResponse(description="A bad field (as when adding one)."),
            404: OpenApiResponse(description="No such channel."),
        },
    )
    def patch(self, request: Request, channel_id: int) -> Response:
        form = ChannelInputSerializer(data=request.data, partial=True)
        form.is_valid(raise_exception=True)
        channel = services.channel_update(
            user=request.user, channel_id=channel_id, **form.validated_data
        )
        return Response(selectors.channel_data(channel))

    @extend_schema(
        tags=TAG,
        summary="Remove a channel",
        responses={204: None, 404: OpenApiResponse(description="No such channel.")},
    )
    def delete(self, request: Request, channel_id: int) -> Response:
        services.channel_delete(user=request.user, channel_id=channel_id)
        return Response(status=204)


class ChannelTestView(APIView):
    permission_classes = [ManagersOnly]

    @extend_schema(
        tags=TAG,
        summary="Send a test message to a channel (from the worker; see its deliveries)",
        request=None,
        responses={202: DeliverySerializer, 404: OpenApiResponse(description="No such channel.")},
    )
    def post(self, request: Request, channel_id: int) -> Response:
        delivery = services.channel_test(user=request.user, channel_id=channel_id)
        return Response(selectors.delivery_data(delivery), status=202)


class DeliveriesView(APIView):
    permission_classes = [ManagersOnly]

    @extend_schema(
        tags=TAG,
        summary="The delivery log: the latest deliveries with every attempt",
        parameters=[DeliveriesQuery],
        responses={
            200: DeliverySerializer(many=True),
            400: OpenApiResponse(description="Bad query."),
        },
    )
    def get(self, request: Request) -> Response:
        query = DeliveriesQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        return Response(
            selectors.deliveries(
                channel_id=data.get("channel"), alert_id=data.get("alert"), limit=data["limit"]
            )
        )


class AcknowledgeView(APIView):
    permission_classes = [CanEditOrRead]

    @extend_schema(
        tags=["metrics"],
        summary="Acknowledge an alert: who and when are kept and pushed live",
        description="Department heads and managers. Stops the escalation of a critical alert.",
        request=None,
        responses={
            200: AlertSerializer,
            404: OpenApiResponse(description="No such alert."),
            409: OpenApiResponse(description="Already acknowledged: `detail`, `current`."),
        },
    )
    def post(self, request: Request, alert_id: int) -> Response:
        return Response(services.alert_acknowledge(alert_id=alert_id, user=request.user))


class SilenceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    metric = serializers.CharField()
    region = serializers.CharField()
    until = serializers.DateTimeField()
    reason = serializers.CharField()
    active = serializers.BooleanField()
    created_by = serializers.CharField()
    created_at = serializers.DateTimeField()


class SilenceInputSerializer(serializers.Serializer):
    metric = serializers.CharField(max_length=64)
    region = serializers.CharField(max_length=32, help_text="A region, or all.")
    until = serializers.DateTimeField(help_text="At most 30 days ahead.")
    reason = serializers.CharField(max_length=500)


class SilencesView(APIView):
    permission_classes = [CanEditOrRead]

    @extend_schema(
        tags=["metrics"],
        summary="Silences in force: metrics (and regions) whose alerts are not sent",
        responses={200: SilenceSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        return Response(selectors.silences())

    @extend_schema(
        tags=["metrics"],
        summary="Silence a metric in a region (or all) until a moment, with a reason",
        description="Alerts are still raised and shown; only their messages are not sent.",
        request=SilenceInputSerializer,
        responses={201: SilenceSerializer, 400: OpenApiResponse(description="A bad field.")},
    )
    def post(self, request: Request) -> Response:
        form = SilenceInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        silence = services.silence_create(user=request.user, **form.validated_data)
        return Response(selectors.silence_data(silence), status=201)


class SilenceEndView(APIView):
    permission_classes = [CanEditOrRead]

    @extend_schema(
        tags=["metrics"],
        summary="End a silence now",
        request=None,
        responses={200: SilenceSerializer, 404: OpenApiResponse(description="No such silence.")},
    )
    def post(self, request: Request, silence_id: int) -> Response:
        return Response(
            selectors.silence_data(services.silence_end(user=request.user, silence_id=silence_id))
        )


class AlertHistoryEventSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    event = serializers.CharField(
        help_text="raised, silenced, alert_sent, alert_failed, digest_sent, digest_failed, "
        "escalation_sent, escalation_failed, acknowledged, escalated, resolved."
    )
    who = serializers.CharField(help_text="The channel, or who acknowledged.")
    detail = serializers.CharField(help_text="The level raised, or a delivery's error.")


class AlertHistoryView(APIView):
    permission_classes = [CanRead]

    @extend_schema(
        tags=["metrics"],
        summary="What happened to an alert: raised, messages, acknowledged, escalated, resolved",
        responses={
            200: AlertHistoryEventSerializer(many=True),
            404: OpenApiResponse(description="No such alert."),
        },
    )
    def get(self, request: Request, alert_id: int) -> Response:
        history = selectors.alert_history(alert_id)
        if history is None:
            raise exceptions.NotFound(f"There is no alert {alert_id}.")
        return Response(history)
