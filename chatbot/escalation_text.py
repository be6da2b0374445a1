"""What one customer message says about handing over to a person, in English and Chinese
(Simplified and Traditional): an explicit request for a person, frustration, a sensitive
topic, and whether it re-asks an earlier question.

Pure functions over text: no history, no settings, no database (chatbot/escalation.py
applies the policy). Hand-written patterns rather than a classifier because precision
matters as much as recall here, every hit must be explainable to staff in one quoted
phrase, and the development set (bench/datasets/escalation/) is small; each pattern
group is measured by bench/escalation.py.

Matching runs on two views of the message: a Latin view (NFKC, casefolded, one space
between words) and a Han view (Traditional folded to Simplified, all whitespace removed,
so "转 人工" and "轉人工" read as "转人工"). Patterns use no nested quantifiers, so the
cost stays linear in the length of the text, which is clipped anyway.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import Stemmer

from faq_ingest.retrieval.text import ENGLISH_STOPWORDS, is_cjk, to_simplified

# Longer messages are scanned at their head and tail only: a request for a person or a
# threat sits at the start or the end of a pasted log, and a 2 MB paste must not cost
# seconds of regex time.
MAX_SCAN_CHARS = 4000
_TAIL_CHARS = 1000

_SURROGATES = re.compile(r"[\ud800-\udfff]")
_SPACES = re.compile(r"\s+")


def clip(text: str) -> str:
    text = _SURROGATES.sub("", text)
    if len(text) > MAX_SCAN_CHARS:
        text = text[: MAX_SCAN_CHARS - _TAIL_CHARS] + "\n" + text[-_TAIL_CHARS:]
    return text


@dataclass(frozen=True)
class Views:
    raw: str  # clipped original (case kept, for shouting)
    latin: str  # NFKC + casefold, straight apostrophes, single spaces
    han: str  # Simplified Chinese, NFKC + casefold, no whitespace ("" without CJK)


def views(text: str) -> Views:
    raw = clip(text)
    folded = unicodedata.normalize("NFKC", raw).casefold().replace("’", "'").replace("‘", "'")
    latin = _SPACES.sub(" ", folded).strip()
    han = _SPACES.sub("", to_simplified(folded)) if is_cjk(folded) else ""
    return Views(raw, latin, han)


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.VERBOSE)


def _quote(text: str, start: int, end: int) -> str:
    return text[start:end].strip()


# --- explicit requests for a person -----------------------------------------------------

_DET = r"(?:(?:a|an|the|some|your|ur|one\ of\ your|any|another|to\ a)\ )?"
_ADJ = (
    r"(?:(?:real|live|actual|human|proper|other|different|real\ live|customer\ service"
    r"|customer\ support|customer\ care|support|service|sales|billing)\ )?"
)
_WHO = r"""(?:
    human\ beings?|humans?|persons?|people|agents?|reps?|representatives?|operators?
    |somebody|someone|some\ one|anybody|anyone|advisors?|advisers?|managers?|supervisors?
    |staff(?:\ members?)?|employees?|team\ members?|associates?|specialists?
    |customer\ (?:service|support|care)(?:\ (?:team|agent|rep|representative))?
    |support\ (?:team|staff)|service\ team
)"""
# "human resources", "the agent feature in my plan", "human-sized": not a person to talk to.
_NOT_A_PERSON = (
    r"(?!\ ?(?:resources|error|rights|hair|body|feature|features|plan|app|portal|software"
    r"|tool|id|login|account|sized)\b)(?!-)"
)
_WHOM = _DET + _ADJ + _WHO + r"\b" + _NOT_A_PERSON
# What may follow "I want/need <someone>" for it to be a request to be served by a person,
# not "do I need a person at home to sign" or "I need an agent to pick up my parcel".
_TAIL_OK = r"""(?=\ ?(?:$|[.!?,;:)]|please|pls|plz|now|asap|right\ now|immediately|instead
    |today|urgently|here|there|again|not\ a\ (?:bot|robot|machine)
    |to\ (?:help|talk|speak|chat|assist|handle|look|call|contact|answer|sort|deal|fix
          |resolve|review|check|get\ back|explain)
    |who\ |that\ (?:can|could|will|knows|understands)|about|regarding|on\ the\ (?:phone|line)
    |from\ (?:your|the)|in\ (?:customer|support|charge)|i\ can|for\ (?:help|assistance|this|that)))"""

_EN_REQUEST = [
    # talk / speak / chat to a person
    _rx(
        r"\b(?:talk|speak|chat|communicate|converse)\ (?:directly\ |right\ now\ |now\ )?(?:to|with)\ "
        + _WHOM
    ),
    # connect / transfer / escalate me to a person
    _rx(
        r"\b(?:connect|transfer|put|patch|escalate|redirect|route|switch|pass)"
        r"(?:\ (?:me|us|this|this\ chat|this\ conversation|this\ case|my\ (?:chat|case|issue|question)))?"
        r"\ (?:to|through\ to|over\ to|on\ to|onto|with)\ " + _WHOM
    ),
    # I want / need / would like a person
    _rx(
        r"\b(?:(?:i|we)(?:'m|\ am)?\ (?:really\ |just\ |still\ |only\ )?"
        r"(?:want|need|prefer|demand|request|asking\ for|ask\ for|looking\ for|wanna)"
        r"|(?:i|we)(?:'d|\ would)\ (?:really\ |much\ )?(?:like|prefer|love))"
        r"\ (?:to\ (?:talk|speak|chat)\ (?:to|with)\ )?" + _WHOM + _TAIL_OK
    ),
    # how do I reach / can I get a person
    _rx(
        r"\b(?:how\ (?:do|can|could)\ i|how\ to|where\ (?:do|can)\ i|can\ i|could\ i|may\ i"
        r"|is\ it\ possible\ to|let\ me)"
        r"\ (?:please\ )?(?:reach|contact|call|get\ hold\ of|get\ in\ touch\ with"
        r"|get\ through\ to|get|have)?\ ?" + _WHOM + _TAIL_OK
    ),
    # get me a person (an order: whatever follows, unless someone is only to do an errand)
    _rx(
        r"\b(?:get|give|find|bring)\ me\ " + _WHOM + r"(?!\ else)(?!\ to\ (?!help|talk|speak|chat"
        r"|assist|handle|look|call|contact|answer|sort|deal|fix|resolve|review|check|explain))"
    ),
    # is there a person / is anyone there
    _rx(
        r"\b(?:is|are)\ (?:there\ )?(?:any\ |a\ |an\ |some\ )?(?:real\ |live\ |actual\ )?"
        r"(?:one|body|humans?|persons?|people|agents?|someone|somebody|anyone|anybody)"
        r"\ (?:there|here|available|online|around|real|working"
        r"|i\ (?:can|could)\ (?:talk|speak|chat)|to\ (?:talk|speak|chat)|that\ i\ can)"
    ),
    # not a bot
    _rx(
        r"\b(?:don't|dont|do\ not)\ want\ (?:to\ (?:talk|speak|chat)\ (?:to|with)\ )?"
        r"(?:a\ |the\ |this\ |your\ |an\ |any\ )?(?:stupid\ |dumb\ |automated\ )?"
        r"(?:bot|robot|machine|ai|chatbot|computer|automated\ (?:system|answers?|replies))s?\b"
        r"|\b(?:no\ more\ |enough\ of\ (?:the\ |this\ )?|stop\ (?:the\ |this\ )?)"
        r"(?:bot|robot|chatbot|automated|machine)s?\b"
    ),
    # can someone call / contact / look at ... me
    _rx(
        r"\b(?:can|could|would|will|please|pls|have|get)\ (?:you\ )?(?:please\ )?(?:have\ |get\ |ask\ )?"
        + _WHOM
        + r"(?:\ from\ (?:your|the)(?:\ \w+){1,2}?)?\ (?:please\ )?(?:to\ )?"
        r"(?:call|contact|email|ring|phone|help|look\ (?:at|into)|check|review|get\ back\ to"
        r"|reach\ out\ to|talk\ to|speak\ (?:to|with))\ (?:me|us|this|my)\b"
    ),
    # can you transfer me?
    _rx(
        r"\b(?:can|could|would|will|please|pls)\ (?:you\ )?(?:please\ )?(?:transfer|connect"
        r"|escalate)\ me\ ?(?:$|[.!?,]|please|now)"
    ),
    # help from a person
    _rx(r"\b(?:help|assistance|support)\ from\ " + _WHOM),
]
# A whole sentence that is nothing but a call for a person: "Human.", "agent please".
_EN_FILLER = (
    r"(?:hi|hello|hey|ok|okay|please|pls|plz|just|now|asap|yes|i\ want|i\ need|give\ me"
    r"|get\ me|can\ i\ (?:get|have|talk\ to|speak\ to)|talk\ to|speak\ to|chat\ with"
    r"|connect\ me\ to|thanks|thank\ you|there|here|out\ there|home)"
)
_EN_WHOLE = _rx(r"(?:" + _EN_FILLER + r"\ )*" + _DET + _ADJ + _WHO + r"(?:\ " + _EN_FILLER + r")*")
_EN_NEGATION = re.compile(
    r"(?:\bdon't|\bdont|\bdo not|\bdoesn't|\bno need|\bwithout|\bnever|\bnot)\s(?:\w+\s){0,3}$"
)
# Sentences, and runs of another script: "Agent pls, 我的订单有问题" holds the sentence "agent pls".
_SENTENCE_SPLIT = re.compile(r"[.!?;,\n。、]+|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_NON_WORD = re.compile(r"[^\w' ]+")

_ZH_WHO = (
    r"(?:人工客服|人工服务|人工坐席|人工座席|人工|真人客服|真人|活人|真正的人|客服人员|客服专员"
    r"|客服|工作人员|服务人员|经理|主管|负责人|店长)"
)
# 人工智能 (AI), 人工费 (labour cost), 人工皮革 (artificial leather)...
_ZH_NOT_A_PERSON = r"(?!智能|智慧|费|成本|合成|皮革|材料|湖|草|制品|降雨|呼吸|授精|养殖)"
_ZH_REQUEST = [
    re.compile(
        r"(?:转接|转到|转|接|找|要|叫|呼叫|联系|联络|请|换|切换到?)(?:一?个|一下|下)?(?:你们|贵司)?的?"
        + _ZH_WHO
        + _ZH_NOT_A_PERSON
    ),
    re.compile(r"人工客服|人工服务|人工坐席|人工座席|真人客服|人工介入|人工处理|人工回复|人工帮助"),
    re.compile(
        r"(?:跟|和|与|同)(?:你们的?)?"
        + _ZH_WHO
        + r"(?:说话|聊天|聊|沟通|对话|谈|交流|联系|联络|讲)"
    ),
    re.compile(r"有人在吗|有人吗|有没有人(?:在|啊|吗|呀|理|回)|有没有真人|有真人吗"),
    re.compile(
        r"(?:不想|不要|不愿意?|别|不用)再?(?:跟|和|与)?(?:机器人|机器|ai|bot|智能客服|自动回复)"
    ),
    re.compile(
        r"(?:让|叫|请|希望|麻烦)" + _ZH_WHO + r"(?:尽快)?(?:联系|回复|处理|打电话|回电|跟进)"
    ),
]
_ZH_WHOLE = re.compile(
    r"(?:你好|您好|请|麻烦|我要|我想要|给我|要|找|转|在吗|在不在|呢|吧|啊|呀|谢谢|快|马上|立刻)*"
    r"(?:转人工|人工客服|真人客服|人工|真人|客服|活人|经理)"
    r"(?:吧|呢|啊|呀|请|谢谢|在吗|在不在|快|马上|服务)*"
)
_ZH_A_NOT_A = re.compile(r"能不能|可不可以|要不要|是不是|行不行|好不好|有没有|可否")
_ZH_NEGATION = re.compile(r"[不没无别甭]")
_ZH_NON_WORD = re.compile(r"[^\w]+")


def _zh_negated(han: str, start: int) -> bool:
    prefix = _ZH_A_NOT_A.sub("", han[max(0, start - 5) : start])
    return bool(_ZH_NEGATION.search(prefix[-2:]))


def explicit_request(text: str) -> str | None:
    """The customer's words asking for a person, or None."""
    v = views(text)
    for sentence in _SENTENCE_SPLIT.split(v.latin):
        bare = _SPACES.sub(" ", _NON_WORD.sub(" ", sentence)).strip()
        if bare and _EN_WHOLE.fullmatch(bare):
            return bare
    for rx in _EN_REQUEST:
        for m in rx.finditer(v.latin):
            clause_start = max(v.latin.rfind(c, 0, m.start()) for c in ".,;!?\n")
            before = v.latin[clause_start + 1 : m.start()]
            if not _EN_NEGATION.search(before):
                return _quote(v.latin, m.start(), m.end())
    if v.han:
        bare = _ZH_NON_WORD.sub("", v.han)
        if bare and _ZH_WHOLE.fullmatch(bare):
            return v.han
        for rx in _ZH_REQUEST:
            for m in rx.finditer(v.han):
                if not _zh_negated(v.han, m.start()):
                    return m.group()
    return None


# --- frustration --------------------------------------------------------------------------

_STRONG, _WEAK, _SWEAR = 2.0, 1.0, 2.0

_EN_FRUSTRATION: list[tuple[float, re.Pattern[str]]] = [
    (
        _STRONG,
        _rx(
            r"\b(?:useless|pointless|worthless|hopeless|ridiculous|absurd|outrageous"
            r"|unacceptable|pathetic|disgraceful|shameful|appalling|disgusting|infuriating"
            r"|furious|livid|fuming|outraged|infuriated|enraged|disgusted|angry)\b"
        ),
    ),
    (
        _STRONG,
        _rx(
            r"\b(?:terrible|horrible|awful|bad|poor|lousy|worst|crappy|shitty)\ (?:customer\ )?"
            r"(?:service|support|experience|company|shop|store|bot|chatbot|website|site|app)\b"
            r"|\bworst\ (?:\w+\ ){0,3}?(?:ever|i've\ ever|of\ my\ life)\b"
            r"|\bwaste\ of\ (?:my\ |our\ )?(?:time|money)\b"
        ),
    ),
    (
        _STRONG,
        _rx(
            r"\b(?:not|isn't|wasn't|aren't|never)\ (?:being\ )?(?:very\ )?help(?:ful|ing)\b"
            r"|\bunhelpful\b|\b(?:doesn't|didn't|does\ not|did\ not|don't|won't)\ help\b"
            r"|\bnone\ of\ (?:this|these|that)\ (?:helps|helped|works|worked)\b|\bnothing\ works\b"
        ),
    ),
    (
        _STRONG,
        _rx(
            r"\b(?:stupid|dumb|idiotic|brainless|moronic)\ (?:bot|robot|machine|chatbot|ai|thing"
            r"|system|answers?|company|website|site|app|people)\b"
            r"|\b(?:bot|you|this|it|chat)\ (?:is|are)\ (?:so\ |really\ |just\ |completely\ )?"
            r"(?:stupid|dumb|useless|hopeless|a\ joke)\b"
        ),
    ),
    (
        _STRONG,
        _rx(
            r"\bfed\ up\b|\bsick\ (?:and\ tired\ )?of\b|\bhad\ enough\b|\bi\ give\ up\b"
            r"|\b(?:are|r)\ (?:you|u)\ (?:kidding|serious|joking)\b|\byou\ must\ be\ joking\b"
            r"|\bwhat\ a\ joke\b|\bjoke\ of\ a\b"
            r"|\b(?:what\ is|what's|whats)\ wrong\ with\ (?:you|your|this)\b"
            r"|\bthis\ is\ (?:a\ )?(?:joke|nonsense|insane|madness|unbelievable)\b"
        ),
    ),
    (
        _STRONG,
        _rx(
            r"\b(?:asked|told\ you|said|written)\ (?:this\ |that\ |it\ )?(?:\d+|two|three|four"
            r"|five|several|many|multiple|so\ many|a\ dozen)\ times\b"
            r"|\b(?:third|3rd|fourth|4th|fifth|hundredth)\ time\b|\bhow\ many\ times\b"
            r"|\bagain\ and\ again\b"
        ),
    ),
    (
        _STRONG,
        _rx(
            r"\brip[\ -]?off\b|\bscammers\b|\bcon\ artists\b|\bthieves\b|\bliars\b"
            r"|\blying\ to\ me\b"
            r"|\bnever\ (?:again|order(?:ing)?\ from|shop(?:ping)?\ (?:here|with|at)"
            r"|buy(?:ing)?\ from)\b"
            r"|\b(?:nobody|no\ one)\ (?:is\ |ever\ )?(?:help|answer|respond|repl|read|care"
            r"|get)\w*"
            r"|\b(?:file|make|lodge|submit|raise)\ a\ (?:formal\ )?complaint\b"
            r"|\bi\ want\ to\ complain\b"
        ),
    ),
    (
        _SWEAR,
        _rx(
            r"\b(?:fuck\w*|f\*+k\w*|wtf|stfu|shit\w*|bullshit|crap|damn\w*|goddamn\w*|ffs"
            r"|bloody\ hell|asshole\w*|bastard\w*|screw\ (?:you|this)|pissed|piss\ off|bollocks"
            r"|motherf\w+)"
        ),
    ),
    (
        _WEAK,
        _rx(
            r"\b(?:annoy\w*|frustrat\w*|disappoint\w*|unhappy|not\ happy|upset|ugh+|argh+|grr+"
            r"|seriously|come\ on|terrible|awful|horrible|wrong\ answer)\b"
            r"|\b(?:still|been|keep)\ (?:waiting|nothing|no|not)\b"
            r"|\b(?:you|u)\ (?:don't|do\ not|dont)\ (?:understand|get\ it)\b"
            r"|\bnot\ what\ i\ (?:asked|meant|want)\b"
        ),
    ),
]
_EN_INTENSIFIER = _rx(
    r"\b(?:so|very|extremely|absolutely|completely|totally|utterly|really|incredibly|beyond"
    r"|fucking)\b"
)

_ZH_FRUSTRATION: list[tuple[float, re.Pattern[str]]] = [
    (
        _STRONG,
        re.compile(
            r"破(?:服务|系统|机器人|网站|公司|客服|玩意|东西|app|店)|什么破|垃圾(?!袋|桶|分类|回收|堆|场)"
            r"|没用(?![过完了上到])|没有用(?=$|[!?,.…]|啊|呀|的|吗)|有没有用(?=$|[!?,.…]|啊|呀)"
            r"|有什么用|一点用(?:都|也)?没有|毫无用处|太差|很差|真差|差劲|烂(?:服务|透|公司|客服|系统|网站)"
            r"|什么烂|气死|受够|无语|离谱|坑(?:人|爹|钱)|骗(?:人|子|钱)|答非所问|听不懂人话"
            r"|说了(?:多少|几|好几|无数)(?:遍|次)|问了(?:多少|几|好几|两|三|四|五|无数|\d+)(?:遍|次)"
            r"|投诉|什么鬼|太过分|忍无可忍|没人管|不管不顾|再也不(?:买|来)|差评|烦死"
        ),
    ),
    (
        _SWEAR,
        re.compile(r"他妈|妈的|tmd|卧槽|我靠|靠北|傻逼|傻b|操你|尼玛|草泥马|混蛋|王八蛋|狗屎|废物"),
    ),
    (
        _WEAK,
        re.compile(
            r"到底|失望|生气|不满|郁闷|急死|怎么回事|搞什么|太慢|慢死"
            r"|还没(?:到|发|收到|退)|等了(?:好久|很久|[一二三四五六七八九十两几\d]+(?:天|周|个?星期|个?礼拜|个?月))"
        ),
    ),
]
_ZH_INTENSIFIER = re.compile(r"太|真的|非常|极其|特别|超级|简直")

_REPEATED_PUNCT = re.compile(r"[!?]{3,}|\?!|!\?")
_ANGRY_EMOJI = re.compile(
    "[\U0001f621\U0001f92c\U0001f620\U0001f624\U0001f4a2\U0001f644\U0001f44e\U0001f612\U0001f629\U0001f62b\U0001f595]"
)
_CAPS_WORD = re.compile(r"\b[A-Z][A-Z']{2,}\b")
# Capitalised words that are names, not shouting.
_ACRONYMS = frozenset(
    "UPS USPS DHL FEDEX APO FPO DPO VAT GDPR CCPA FAQ USA EU UK US PO ID PIN SMS URL "
    "OK NW DIY GPS LED USB SKU PDF CEO API AM PM ETA".split()
)


@dataclass(frozen=True)
class Frustration:
    score: float
    signals: tuple[str, ...]  # what scored, for staff: quoted words and style cues


def frustration(text: str) -> Frustration:
    """Score how frustrated the message reads; 0.0 for a neutral one.

    Words score (strong 2, swearing 2, mild 1); an intensifier adds 1 only next to a
    word that scored, so "so excited!!" stays calm. Shouting, "???"/"?!" and angry emoji
    add 1 each: on their own they are style, not anger ("HELLO HOW DO I TRACK MY ORDER").
    """
    v = views(text)
    score = 0.0
    signals: list[str] = []
    seen: set[str] = set()
    groups = [(v.latin, _EN_FRUSTRATION, _EN_INTENSIFIER)]
    if v.han:
        groups.append((v.han, _ZH_FRUSTRATION, _ZH_INTENSIFIER))
    worded = False
    for view, lexicon, intensifier in groups:
        spans: list[tuple[int, int]] = []
        for weight, rx in lexicon:
            for m in rx.finditer(view):
                phrase = m.group().strip()
                # One stretch of words counts once: "this is useless" is not also "useless".
                if phrase in seen or any(m.start() < e and s < m.end() for s, e in spans):
                    continue
                seen.add(phrase)
                spans.append(m.span())
                score += weight
                worded = True
                signals.append(f"“{phrase}”")
        if worded and (m := intensifier.search(view)) and "intensifier" not in seen:
            seen.add("intensifier")
            score += 1.0
            signals.append(f"intensifier “{m.group()}”")
    letters = [c for c in v.raw if c.isalpha() and c.isascii()]
    caps_words = [w for w in _CAPS_WORD.findall(v.raw) if w.strip("'") not in _ACRONYMS]
    if (
        len(letters) >= 8
        and sum(c.isupper() for c in letters) >= 0.7 * len(letters)
        and len(caps_words) >= 2
    ):
        score += 1.0
        signals.append("written in capitals")
    if m := _REPEATED_PUNCT.search(v.latin):
        score += 1.0
        signals.append(f"“{m.group()}”")
    if m := _ANGRY_EMOJI.search(v.raw):
        score += 1.0
        signals.append(m.group())
    return Frustration(score, tuple(signals))


# --- sensitive topics ---------------------------------------------------------------------

# topic -> (label staff read, English pattern, Chinese pattern on the Simplified view)
_TOPICS: dict[str, tuple[str, re.Pattern[str], re.Pattern[str]]] = {
    "legal": (
        "legal threat",
        _rx(
            r"\b(?:sue|suing)\ (?:you|u|your|northwind|the\ company|them|this\ company|the\ store)\b"
            r"|\b(?:i'll|i\ will|i\ am\ going\ to|i'm\ going\ to|gonna|i\ shall|we\ will|we'll)"
            r"\ (?:\w+\ )?sue\b"
            r"|\blaw\ ?suits?\b"
            # "my lawyer", "hire a lawyer", "lawyers will": not "I'm a lawyer, VAT invoice?"
            r"|\b(?:my|our|get\ a|hire\ a|call\ a|contact\ a|consult\ a|involve\ a|with\ a"
            r"|through\ a|to\ a|speak\ to\ a|talk\ to\ a)\ (?:lawyer|attorney|solicitor)s?\b"
            r"|\b(?:lawyer|attorney|solicitor)s?\ (?:will|is|are|has|have)\b"
            r"|\blegal\ (?:action|proceedings|steps|advice|team|case)\b"
            r"|\btake\ (?:you|this|it|them|northwind)\ to\ court\b|\bsmall\ claims\b"
            r"|\bclass\ action\b|\bcease\ and\ desist\b|\bombudsman\b"
            r"|\bbetter\ business\ bureau\b|\btrading\ standards\b"
            r"|\b(?:report|reporting)\ (?:you|this|northwind)\ to\ (?:the\ )?(?:bbb|ftc"
            r"|consumer\ (?:protection|rights)|authorities|police|regulator)"
        ),
        re.compile(
            r"起诉|告你们|告到|打官司|律师|法院|诉讼|法律途径|法律责任|消协|消费者协会|12315|工商局"
            r"|市场监管|提告|仲裁"
        ),
    ),
    "chargeback": (
        "chargeback or payment dispute",
        _rx(
            r"\bcharge[\ -]?backs?\b"
            r"|\bdispute\ (?:the\ |this\ |a\ |that\ |my\ )?(?:charge|transaction|payment|purchase)"
            r"|\b(?:paypal|card|bank|credit\ card)\ (?:dispute|claim)\b"
            r"|\bopened\ a\ (?:paypal\ )?(?:dispute|claim)\b|\bfile\ a\ dispute\b"
            r"|\b(?:bank|card\ issuer|credit\ card\ company)\ (?:has\ )?(?:reversed|is\ reversing"
            r"|will\ reverse|to\ reverse)\b"
            r"|\breverse\ the\ (?:charge|payment|transaction)\b"
            r"|\b(?:call|contact|tell|ask)\ my\ bank\ to\ (?:stop|reverse|cancel|block)\b"
        ),
        re.compile(
            r"拒付|拒绝付款|撤销(?:交易|付款|扣款)|(?:银行|信用卡|paypal|支付宝)(?:申诉|争议)"
            r"|申请(?:争议|拒付)"
        ),
    ),
    "privacy": (
        "data-protection request",
        _rx(
            r"\bgdpr\b|\bccpa\b|\bdsar\b|\bsubject\ access\ request\b"
            r"|\bright\ to\ (?:be\ forgotten|erasure|access)\b"
            r"|\bdata\ protection\ (?:officer|act|request|authority|law|regulation)\b"
            r"|\b(?:delete|erase|remove|wipe|purge)\ (?:all\ )?(?:of\ )?(?:my|the)\ (?:personal\ )?"
            r"(?:data|information|info|details)\b"
            r"|\b(?:delete|erase|remove)\ (?:my\ account\ and|everything)\ (?:\w+\ ){0,4}?"
            r"(?:data|information|info)\b"
            r"|\binformation\ commissioner\b|\bdo\ not\ sell\ my\b"
        ),
        re.compile(
            r"个人信息保护法|个保法|删除我?的?(?:所有|全部)?的?个人(?:数据|信息|资料)|隐私投诉"
        ),
    ),
    "self_harm": (
        "possible self-harm",
        _rx(
            r"\b(?:kill|killing|hurt|hurting|harm|harming|cut|cutting)\ myself\b|\bsuicid\w*"
            r"|\bend\ (?:my|it)\ (?:life|all)\b|\bend\ it\ all\b|\bself[\ -]?harm\w*"
            r"|\bwant\ to\ die\b|\b(?:don't|do\ not|dont)\ want\ to\ (?:live|be\ alive|exist)\b"
            r"|\bno\ reason\ to\ live\b|\btake\ my\ (?:own\ )?life\b|\bbetter\ off\ dead\b"
        ),
        re.compile(r"自杀|轻生|不想活|活不下去|想死(?!你)|自残|结束(?:我的)?生命|割腕|跳楼"),
    ),
    "safety": (
        "injury or product safety",
        _rx(
            r"\binjur\w*|\b(?:caught|catch|catches|catching|set\ on)\ fire\b"
            r"|\bburn(?:ed|t|s)?\ (?:me|myself|him|her|us|my\ (?:hand|arm|leg|face|skin|child|son"
            r"|daughter|kid|kids|finger|fingers|foot))\b"
            r"|\bexplod\w*|\bexplosion\b|\belectric(?:al)?\ shock\b|\belectrocut\w*"
            r"|\ballergic\ reaction\b"
            r"|\b(?:went|go|going|gone|taken|rushed|ended\ up)\ (?:to|in)\ (?:the\ )?"
            r"(?:hospital|er|a&e|emergency)\b|\bhospitali[sz]ed\b|\bemergency\ room\b"
            r"|\b(?:safety|product)\ (?:recall|issue|hazard|concern)\b|\bis\ there\ a\ recall\b"
            r"|\bbeen\ recalled\b|\bcarbon\ monoxide\b|\bchoking\ hazard\b|\bpoison(?:ed|ing)\b"
        ),
        re.compile(
            r"受伤|砸伤|烫伤|烧伤|割伤|摔伤|起火|着火|爆炸|触电|过敏反应|住院|送医|急诊|一氧化碳|召回"
        ),
    ),
    "fraud": (
        "fraud or unauthorised use",
        _rx(
            r"\bfraud\w*|\bscam\w*|\bphishing\b|\bidentity\ theft\b"
            r"|\bstolen\ (?:credit\ )?(?:card|identity|account|details|password)\b"
            r"|\b(?:card|account|identity|details|password)\ (?:was|were|has\ been|got|have\ been)"
            r"\ (?:stolen|hacked|compromised)\b"
            r"|\b(?:was|were|been|got)\ hacked\b"
            r"|\bunauthori[sz]ed\ (?:charge|purchase|transaction|order|payment|access|use|login)"
            r"|\b(?:someone|somebody)\ (?:else\ )?(?:used|is\ using|has\ used|accessed"
            r"|logged\ into|hacked|took\ over)\ my\ (?:card|account|credit\ card|details|paypal)\b"
            r"|\bi\ (?:didn't|did\ not|never)\ (?:make|place|order|authori[sz]e)\ (?:this\ |that\ "
            r"|these\ |those\ |any\ )?(?:order|purchase|charge|payment)s?\b"
            r"|\borders?\ i\ (?:didn't|did\ not|never)\ (?:make|made|place|placed)\b"
        ),
        re.compile(
            r"诈骗|盗刷|被盗|盗号|被黑|钓鱼(?:网站|邮件|链接)|不是我(?:本人)?下的(?:单|订单)"
            r"|未经授权|冒用|骗子"
        ),
    ),
}
SENSITIVE_TOPICS: tuple[str, ...] = tuple(_TOPICS)


def topic_label(topic: str) -> str:
    return _TOPICS[topic][0] if topic in _TOPICS else topic.replace("_", " ")


@dataclass(frozen=True)
class TopicHit:
    topic: str
    phrase: str


@lru_cache(maxsize=32)
def _keyword_pattern(keywords: tuple[str, ...]) -> re.Pattern[str] | None:
    """Staff-configured phrases: whole words for Latin script, substrings for Chinese."""
    parts = []
    for kw in keywords:
        kw = _SPACES.sub(" ", unicodedata.normalize("NFKC", kw).casefold()).strip()
        if not kw:
            continue
        if is_cjk(kw):
            parts.append(re.escape(_SPACES.sub("", to_simplified(kw))))
        else:
            parts.append(r"(?<!\w)" + re.escape(kw) + r"(?!\w)")
    return re.compile("|".join(parts)) if parts else None


def sensitive_topic(
    text: str, topics: frozenset[str] | tuple[str, ...], keywords: tuple[str, ...] = ()
) -> TopicHit | None:
    """The first configured sensitive topic the message touches, or None."""
    v = views(text)
    for topic in SENSITIVE_TOPICS:
        if topic not in topics:
            continue
        _label, en, zh = _TOPICS[topic]
        if m := en.search(v.latin):
            return TopicHit(topic, m.group().strip())
        if v.han and (m := zh.search(v.han)):
            return TopicHit(topic, m.group())
    rx = _keyword_pattern(tuple(keywords))
    if rx is not None:
        if m := rx.search(v.latin):
            return TopicHit("keyword", m.group().strip())
        if v.han and (m := rx.search(v.han)):
            return TopicHit("keyword", m.group())
    return None


# --- asking again -----------------------------------------------------------------------

_EN_REPHRASE = _rx(
    r"\b(?:i\ mean|i\ meant|what\ i\ mean|i\ asked|i'm\ asking|i\ am\ asking"
    r"|my\ question\ (?:is|was)|that's\ not\ (?:what|it|my)|that\ is\ not\ (?:what|it)"
    r"|not\ what\ i|(?:doesn't|didn't|does\ not|did\ not)\ answer|you\ didn't"
    r"|let\ me\ rephrase|rephrase|in\ other\ words|once\ again|i\ already|i\ did\ that"
    r"|tried\ that|same\ answer|to\ be\ clear|what\ i\ want\ to\ know"
    r"|still\ (?:not|don't|doesn't|no|can't|haven't|shows|says)|yes\ but|no\ i)\b"
    r"|^(?:no|again)\b|\bor\ not\b|\bagain\ ?[:,?]"
)
_ZH_REPHRASE = re.compile(
    r"我是说|我是问|我的意思是|我问的是|我想问的是|不是这个|不是问|答非所问|没回答|换句话说|再问一次"
    r"|还是不|我想知道的是|到底|我已经"
)


def rephrase_marker(text: str) -> str | None:
    """Words that say "I am asking again" ("I mean...", "我是问..."), or None."""
    v = views(text)
    if m := _EN_REPHRASE.search(v.latin):
        return m.group().strip(" :,?")
    if v.han and (m := _ZH_REPHRASE.search(v.han)):
        return m.group()
    return None


_WORD = re.compile(r"[^\W\d_][^\W_]*|\d+")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
# Question words carry no topic: "how do I" and "can I" must not make two questions alike.
_QUESTION_WORDS = frozenset(
    "how what when where why which who can could would tell know get".split()
)


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def content_terms(text: str) -> frozenset[str]:
    """Stemmed content words and Chinese character bigrams, for comparing two questions."""
    v = views(text)
    words = [
        w
        for w in _WORD.findall(_CJK_RUN.sub(" ", v.latin.replace("'", "")))
        if w not in ENGLISH_STOPWORDS and w not in _QUESTION_WORDS
    ]
    terms = set(_stemmer().stemWords(words)) if words else set()
    for run in _CJK_RUN.findall(v.han):
        terms.update(run[i : i + 2] for i in range(len(run) - 1))
        if len(run) == 1:
            terms.add(run)
    return frozenset(terms)


def similarity(a: str, b: str) -> float:
    """Overlap coefficient of the two texts' content terms, in [0, 1]."""
    ta, tb = content_terms(a), content_terms(b)
    if not ta or not tb:
        return 0.0
    return len(ta & tb) / min(len(ta), len(tb))
