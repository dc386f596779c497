"""The visitor counter parser on the label and number layouts seen on Vietnamese portals."""

from __future__ import annotations

import pytest

from coopspider.pages.counter import Counter, parse_counter


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thống kê truy cập:280451\nSố người trực tuyến: 43", Counter(280451, 43)),
        (
            "Thống kê truy cập\nĐang online\n12\nHôm nay\n340\nTổng lượt truy cập\n1.234.567",
            Counter(1234567, 12),
        ),
        ("Tổng số lượt truy cập : 98 765\nKhách online : 7", Counter(98765, 7)),
        ("Tổng truy cập\u00a0: 2\u00a0345\u00a0678", Counter(2345678, None)),
        ("Lượt truy cập: 12,345 Đang truy cập: 9", Counter(12345, 9)),
        ("Thống kê truy cập\nĐang trực tuyến:\nHôm nay: 25/11/2026", Counter(None, None)),
        ("Hôm nay: 120\nHôm qua: 340\nTháng này: 4.500", Counter(None, None)),
        ("Lượt xem: 1234", Counter(None, None)),
        ("Thông tin liên hệ: 0227.3831.234", Counter(None, None)),
        ("THỐNG KÊ TRUY CẬP\nTỔNG LƯỢT TRUY CẬP: 56.789", Counter(56789, None)),
        ("Tho\u0302\u0301ng ke\u0302 truy ca\u0302\u0323p:280451", Counter(280451, None)),
        ("", Counter(None, None)),
        # A label among other words, or a number glued to other text, is no counter.
        ("TRANG CHỦ\nBÀN TRÒN TRỰC TUYẾN\n24H\nVIDEO", Counter(None, None)),
        ("Đang trực tuyến\n24H", Counter(None, None)),
        ("Hội nghị trực tuyến 2024 bàn về hợp tác xã", Counter(None, None)),
        ("Giao lưu trực tuyến: 15 câu hỏi của bạn đọc", Counter(None, None)),
        ("Đang online 10:30", Counter(None, None)),
        # A label line and its number line must be adjacent.
        ("Đang truy cập\n\n37", Counter(None, None)),
        ("Đang truy cập : 37 người\nTổng lượt truy cập » 1.204.566 lượt", Counter(1204566, 37)),
        ("Trực tuyến\n37\nTổng\n99", Counter(None, 37)),
        (["Số lượt truy cập", "305.118", "Đang online: 12"], Counter(305118, 12)),
    ],
)
def test_parse_counter(text: str | list[str], expected: Counter) -> None:
    assert parse_counter(text) == expected
