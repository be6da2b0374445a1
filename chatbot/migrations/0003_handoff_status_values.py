"""Conversation statuses from before the handoff, renamed to the state machine's."""

from django.db import migrations, models

# The statuses before the handoff existed, and what each one means now.
OLD_TO_NEW = {"open": "bot", "escalated": "waiting", "closed": "resolved"}


def forwards(apps, schema_editor):
    Conversation = apps.get_model("chatbot", "Conversation")
    for old, new in OLD_TO_NEW.items():
        Conversation.objects.filter(status=old).update(status=new)
    Conversation.objects.filter(status_changed_at__isnull=True).update(
        status_changed_at=models.F("updated_at")
    )


def backwards(apps, schema_editor):
    Conversation = apps.get_model("chatbot", "Conversation")
    # One UPDATE: the check constraint ties assigned_agent to status "agent".
    Conversation.objects.filter(status="agent").update(status="escalated", assigned_agent=None)
    new_to_old = {
        "bot": "open",
        "waiting": "escalated",
        "resolved": "closed",
        "abandoned": "closed",
        "ticket": "closed",
    }
    for new, old in new_to_old.items():
        Conversation.objects.filter(status=new).update(status=old)


class Migration(migrations.Migration):
    dependencies = [("chatbot", "0002_handoff_states")]

    operations = [migrations.RunPython(forwards, backwards)]
