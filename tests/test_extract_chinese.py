"""Chinese help pages: GBK/Big5 fixtures, 问/答 and Q:/A: prefixes, fullwidth question marks."""

from __future__ import annotations

from pathlib import Path

from faq_ingest.extract import extract_faqs

FIXTURES = Path(__file__).parent / "fixtures" / "html"


def test_gbk_fixture_is_really_gbk_bytes() -> None:
    raw = (FIXTURES / "zh_gbk.html").read_bytes()
    assert "问：下单后多久发货？".encode("gbk") in raw
    assert "问：".encode() not in raw


def test_gbk_page_prefixes_are_stripped_and_language_is_zh() -> None:
    html = (FIXTURES / "zh_gbk.html").read_bytes().decode("gbk")
    faqs = extract_faqs(html, "https://www.kuaile-shop.example/help/faq.html")
    first = faqs[0]
    assert first.question == "下单后多久发货？"
    assert first.answer == "一般情况下，付款成功后**48小时内**发货，预售商品以页面说明为准。"
    assert first.anchor == "order"
    assert all(f.language == "zh" for f in faqs)
    address = next(f for f in faqs if f.question == "如何修改收货地址？")
    assert "[我的订单](https://www.kuaile-shop.example/user/orders)" in address.answer
    pay = next(f for f in faqs if f.question == "支持哪些支付方式？")
    assert pay.answer == "支持支付宝、微信支付、银联卡及货到付款。"


def test_big5_traditional_page() -> None:
    html = (FIXTURES / "zh_big5.html").read_bytes().decode("big5")
    faqs = extract_faqs(html, "https://www.haohao-telecom.example/support/faq")
    # "門市營業時間" (store hours) is a statement title with the same markup as its question
    # siblings: an entry like them (it used to be dropped).
    assert [(f.question, f.anchor, f.language) for f in faqs] == [
        ("如何查詢帳單？", "q-bill", "zh"),
        ("出國漫遊要怎麼申請？", "q-roam", "zh"),
        ("門市營業時間", "q-store", "zh"),
    ]


def test_question_and_answer_in_one_paragraph() -> None:
    html = "<main><p>问：可以开发票吗？答：可以，请在订单详情页申请电子发票。</p></main>"
    faqs = extract_faqs(html, "")
    assert [(f.question, f.answer, f.extractor) for f in faqs] == [
        ("可以开发票吗？", "可以，请在订单详情页申请电子发票。", "prefixed")
    ]


def test_english_q_prefix_variants() -> None:
    html = (
        "<main><p>Q. Do you price match?</p><p>A. Yes, within 14 days.</p>"
        "<p>Q: Gift wrapping available?</p><p>A: For $3 per item.</p></main>"
    )
    faqs = extract_faqs(html, "")
    assert [(f.question, f.answer) for f in faqs] == [
        ("Do you price match?", "Yes, within 14 days."),
        ("Gift wrapping available?", "For $3 per item."),
    ]
