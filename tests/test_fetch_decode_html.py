"""decode_html: WHATWG precedence (BOM > HTTP header > meta > detection) and CJK supersets."""

from __future__ import annotations

import random

from faq_ingest.fetch import decode_html

ZH_HANS = "常见问题：如何申请退货？请在订单页面点击退货按钮，我们会在三个工作日内处理您的退款。"
ZH_HANT = "常見問題：如何申請退貨？請在訂單頁面點擊退貨按鈕，我們會在三個工作日內處理您的退款。"


def page(body: str, head: str = "") -> str:
    return f"<html><head>{head}<title>FAQ</title></head><body><p>{body}</p></body></html>"


def test_gbk_meta_label_decodes_as_gb18030_superset() -> None:
    # 喆 is in GBK but not GB2312: decoding with Python's strict gb2312 would fail.
    text = ZH_HANS + "喆"
    body = page(text, '<meta charset="gb2312">').encode("gbk")
    assert text in decode_html(body, "text/html")


def test_gbk_header_label_decodes_gb18030_only_characters() -> None:
    # U+20000 exists only in GB18030 (4-byte sequence); real "GBK" pages contain such bytes.
    text = ZH_HANS + "\U00020000"
    body = page(text).encode("gb18030")
    assert text in decode_html(body, "text/html; charset=GBK")


def test_gb18030_meta_http_equiv() -> None:
    head = '<meta http-equiv="Content-Type" content="text/html; charset=GB18030">'
    body = page(ZH_HANS, head).encode("gb18030")
    assert ZH_HANS in decode_html(body, None)


def test_big5_label_decodes_hkscs_characters() -> None:
    # 嘅 (Cantonese) is in Big5-HKSCS only; plain big5 would replace it.
    text = ZH_HANT + "嘅"
    body = page(text).encode("big5hkscs")
    assert text in decode_html(body, 'text/html; charset="big5"')


def test_utf8_bom_wins_over_header() -> None:
    body = b"\xef\xbb\xbf" + page("Café ñandú").encode("utf-8")
    text = decode_html(body, "text/html; charset=iso-8859-1")
    assert "Café ñandú" in text
    assert not text.startswith("\ufeff")


def test_header_charset_wins_over_meta() -> None:
    # WHATWG: the transport-layer charset beats <meta>; latin-1 means windows-1252.
    body = page("Café", '<meta charset="utf-8">').encode("utf-8")
    assert "CafÃ©" in decode_html(body, "text/html; charset=ISO-8859-1")


def test_meta_used_when_header_has_no_charset() -> None:
    body = page("Café", '<meta charset="utf-8">').encode("utf-8")
    assert "Café" in decode_html(body, "text/html")


def test_undecodable_multibyte_header_falls_through_to_meta() -> None:
    # A server default of "utf-8" on a GBK page is a lie the bytes expose; trust the meta.
    body = page(ZH_HANS, '<meta charset="gbk">').encode("gbk")
    assert ZH_HANS in decode_html(body, "text/html; charset=utf-8")


def test_gbk_without_any_declaration_is_detected() -> None:
    body = page(ZH_HANS * 3).encode("gbk")
    assert ZH_HANS in decode_html(body, "text/html")


def test_big5_without_any_declaration_is_detected() -> None:
    body = page(ZH_HANT * 3).encode("big5")
    assert ZH_HANT in decode_html(body, None)


def test_unknown_label_is_ignored() -> None:
    body = page("Café").encode("utf-8")
    assert "Café" in decode_html(body, "text/html; charset=no-such-charset")


def test_never_raises_on_garbage() -> None:
    rng = random.Random(7)
    for _ in range(20):
        body = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 600)))
        assert isinstance(decode_html(body, "text/html; charset=utf-8"), str)
    assert decode_html(b"", None) == ""
