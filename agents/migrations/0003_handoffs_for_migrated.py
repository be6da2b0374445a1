"""Conversations the bot flagged before the handoff existed are now in the queue; give
each the Handoff record every queued conversation has, saying why it is there."""

from django.db import migrations


def record(apps, schema_editor):
    Conversation = apps.get_model("chatbot", "Conversation")
    Handoff = apps.get_model("agents", "Handoff")
    for conv in Conversation.objects.filter(status="waiting", handoffs__isnull=True):
        Handoff.objects.create(
            conversation=conv,
            trigger="low_confidence",
            reason="Flagged by the assistant before human handoff existed (migrated).",
            outcome="queued",
        )


class Migration(migrations.Migration):
    dependencies = [
        ("agents", "0002_agents_group"),
        ("chatbot", "0003_handoff_status_values"),
    ]

    operations = [migrations.RunPython(record, migrations.RunPython.noop)]
