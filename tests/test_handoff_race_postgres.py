"""Two agents accepting the same conversation at the same moment, on PostgreSQL with real
concurrent connections: exactly one wins, every time, and the database says so.

The same harness first runs a deliberately naive accept (read, then write) to show that
it really makes the two accepts overlap: that one double-assigns. Then the real one."""

from __future__ import annotations

import json
import textwrap

import pytest

from tests.services import app_env, fresh_postgres_database, manage

pytestmark = pytest.mark.services

ROUNDS = 25

RACE_SCRIPT = textwrap.dedent(
    """
    import json, threading, time
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from agents import assignment, states
    from agents.models import AgentProfile, Handoff, StatusChange
    from chatbot.models import Conversation

    ROUNDS = int(__import__("os").environ["ROUNDS"])
    group = Group.objects.get(name="Agents")
    agents = []
    for name in ("maya", "sam"):
        user = User.objects.create_user(name, password="x")
        user.groups.add(group)
        AgentProfile.objects.create(user=user, max_concurrent=1000)
        agents.append(user)

    def waiting():
        conv = Conversation.objects.create()
        states.transition(conv.pk, "waiting")
        Handoff.objects.create(conversation=conv, trigger="button", reason="r", outcome="queued")
        return conv.pk

    def naive_accept(conv_id, user):
        # Read, think, write: the bug the real accept must not have.
        conv = Conversation.objects.get(pk=conv_id)
        if conv.status != "waiting":
            return False
        time.sleep(0.05)
        conv.status, conv.assigned_agent = "agent", user
        conv.save(update_fields=["status", "assigned_agent"])
        return True

    def real_accept(conv_id, user):
        try:
            assignment.accept(conv_id, user)
            return True
        except assignment.AssignmentError as exc:
            assert exc.code == "already_taken", exc.code
            return False

    def race(accept, conv_id, users):
        barrier = threading.Barrier(len(users))
        won = {}

        def attempt(user):
            try:
                barrier.wait()
                won[user.username] = accept(conv_id, user)
            finally:
                connection.close()

        threads = [threading.Thread(target=attempt, args=(u,)) for u in users]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return [name for name, ok in won.items() if ok]

    out = {"naive": [], "real": [], "capacity": None}
    for _ in range(ROUNDS):
        out["naive"].append(race(naive_accept, waiting(), agents))
    for _ in range(ROUNDS):
        conv_id = waiting()
        winners = race(real_accept, conv_id, agents)
        conv = Conversation.objects.get(pk=conv_id)
        out["real"].append({
            "winners": winners,
            "status": conv.status,
            "owner": conv.assigned_agent.username if conv.assigned_agent else None,
            "changes": list(StatusChange.objects.filter(conversation_id=conv_id)
                            .values_list("from_status", "to_status")),
            "handoff_agent": Handoff.objects.get(conversation_id=conv_id).agent.username,
            "joined_notices": conv.messages.filter(notice="joined").count(),
        })

    # One agent with room for one more chat, accepting two conversations at once.
    AgentProfile.objects.filter(user=agents[0]).update(max_concurrent=1)
    Conversation.objects.filter(status="agent").update(status="resolved", assigned_agent=None)
    a, b = waiting(), waiting()
    results = {}
    barrier = threading.Barrier(2)

    def take(conv_id):
        try:
            barrier.wait()
            try:
                assignment.accept(conv_id, agents[0])
                results[conv_id] = "ok"
            except assignment.AssignmentError as exc:
                results[conv_id] = exc.code
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=(c,)) for c in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out["capacity"] = {
        "results": sorted(results.values()),
        "load": Conversation.objects.filter(status="agent", assigned_agent=agents[0]).count(),
    }
    print("RESULT " + json.dumps(out))
    """
)


def test_exactly_one_of_two_racing_agents_gets_the_conversation(tmp_path):
    with fresh_postgres_database() as url:
        env = app_env(
            DATABASE_URL=url,
            DATA_DIR=str(tmp_path),
            CHATBOT_GENERATOR="fake",
            CHATBOT_EMBEDDER="hashing",
            ROUNDS=str(ROUNDS),
        )
        env.pop("REDIS_URL", None)
        migrate = manage(env, "migrate", "--noinput", timeout=240)
        assert migrate.returncode == 0, migrate.stderr
        run = manage(env, "shell", "-c", RACE_SCRIPT, timeout=240)
        assert run.returncode == 0, run.stdout + run.stderr
        line = next(x for x in run.stdout.splitlines() if x.startswith("RESULT "))
        out = json.loads(line[len("RESULT ") :])

    # The harness makes the accepts overlap: a read-then-write accept lets both through.
    doubles = sum(1 for winners in out["naive"] if len(winners) == 2)
    assert doubles > 0, out["naive"]

    for round_ in out["real"]:
        assert len(round_["winners"]) == 1, round_
        winner = round_["winners"][0]
        assert round_["status"] == "agent" and round_["owner"] == winner
        assert round_["changes"] == [["bot", "waiting"], ["waiting", "agent"]]
        assert round_["handoff_agent"] == winner
        assert round_["joined_notices"] == 1
    # Both agents won some rounds: a real race, not one side always first.
    assert len({r["winners"][0] for r in out["real"]}) == 2

    assert out["capacity"] == {"results": ["at_capacity", "ok"], "load": 1}
