"""What the customer is told at each state change, in the languages the bot speaks.

Honest by construction: nothing here promises a transfer unless a conversation really
entered the queue, and the wait is the estimate computed from the queue and the agents.
"""

from __future__ import annotations

from datetime import datetime

TEXTS: dict[str, dict[str, str]] = {
    "queued": {
        "en": "I'm bringing in a member of our team. An agent will join you in about "
        "{minutes} minute{s}. You can keep writing: they will see everything here.",
        "zh": "正在为您转接人工客服，预计约 {minutes} 分钟后会有客服加入。您可以继续留言，客服会看到全部内容。",
    },
    "joined": {
        "en": "{agent} has joined the conversation.",
        "zh": "客服 {agent} 已加入对话。",
    },
    "back_to_bot": {
        "en": "You're back with the assistant. Press “Talk to a person” any time.",
        "zh": "您已回到智能助手。如需人工服务，可随时点击“转人工”。",
    },
    "cancelled": {
        "en": "No problem, you're back with the assistant.",
        "zh": "好的，您已回到智能助手。",
    },
    "resolved": {
        "en": "{agent} marked this conversation as resolved. How did we do?",
        "zh": "客服 {agent} 已将此对话标记为已解决。请为本次服务评分。",
    },
    "requeued": {
        "en": "{agent} got disconnected. You're back in the queue, and the next available "
        "agent will join you (about {minutes} minute{s}).",
        "zh": "客服 {agent} 的连接已断开。您已重新排队，下一位有空的客服会尽快加入（约 {minutes} 分钟）。",
    },
    "requeued_nobody": {
        "en": "{agent} got disconnected and nobody else is available right now. "
        "Leave your e-mail and a message, and we'll reply by e-mail.",
        "zh": "客服 {agent} 的连接已断开，目前没有其他客服在线。请留下您的邮箱和留言，我们会通过邮件回复。",
    },
    "offline_no_agents": {
        "en": "I'm sorry: nobody from our team is available right now, so I can't transfer "
        "you. Leave your e-mail and a message, and we'll reply by e-mail.",
        "zh": "抱歉，目前没有客服在线，无法为您转接。请留下您的邮箱和留言，我们会通过邮件回复您。",
    },
    "offline_hours": {
        "en": "Our team is offline right now{next_open}, so I can't transfer you. Leave "
        "your e-mail and a message, and we'll reply by e-mail.",
        "zh": "我们的客服团队目前不在工作时间{next_open}，无法为您转接。请留下您的邮箱和留言，我们会通过邮件回复您。",
    },
    "ticket": {
        "en": "Thanks, we've got your message. We'll reply to {email}.",
        "zh": "谢谢，我们已收到您的留言，会回复到 {email}。",
    },
    "abandoned": {
        "en": "You left before an agent could join. Your messages are kept; write again any time.",
        "zh": "您在客服加入前离开了。您的留言已保存，可随时再次联系我们。",
    },
    "welcome_back": {
        "en": "Welcome back, you're with the assistant.",
        "zh": "欢迎回来，您正在与智能助手对话。",
    },
    "rephrase": {
        "en": "Could you put that another way? If I still can't find it, I'll bring in a person.",
        "zh": "能换个说法再问一次吗？如果仍找不到答案，我会为您转接人工客服。",
    },
}


def language_of(code: str) -> str:
    return "zh" if (code or "").lower().startswith("zh") else "en"


def say(key: str, language: str, **values: object) -> str:
    lang = language_of(language)
    minutes = values.get("minutes")
    if isinstance(minutes, int):
        values.setdefault("s", "" if minutes == 1 else "s")
    return TEXTS[key][lang].format(**values)


def next_open_phrase(when: datetime | None, language: str) -> str:
    """ " (we're back Monday 09:00 Europe/Berlin)" or "" when unknown."""
    if when is None:
        return ""
    zone = when.tzname() or ""
    if language_of(language) == "zh":
        weekday = "一二三四五六日"[when.weekday()]
        return f"（将于周{weekday} {when:%H:%M} {zone} 恢复服务）"
    return f" (we're back {when:%A %H:%M} {zone})".replace(" )", ")")
