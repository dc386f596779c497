"""Vietnamese vocabulary and templates the sample-site generator draws its articles from, and the
texts of the menu's non-news pages (introduction, history, organisation chart, documents, contact).

Templates use `str.format` fields filled from one slot dictionary per article, so a title, its lead
and its body speak of the same district, product and event.
"""

from __future__ import annotations

from typing import NamedTuple

SITE_NAME = "Liên minh Hợp tác xã tỉnh Thái Bình"
SITE_NAME_UPPER = "LIÊN MINH HỢP TÁC XÃ TỈNH THÁI BÌNH"
ADDRESS = "Số 8 đường Lê Lợi, phường Đề Thám, thành phố Thái Bình, tỉnh Thái Bình"
PHONE = "0227.3 831 234"
FAX = "0227.3 831 235"
EMAIL = "lienminhhtx@thaibinh.gov.vn"

# (slug, id, name) of the news categories, in menu order.
CATEGORIES = [
    ("tin-tuc-su-kien", "3092", "Tin tức - Sự kiện"),
    ("chinh-sach-ho-tro", "3093", "Chính sách hỗ trợ"),
    ("hd-cua-cac-tctv", "3094", "Hoạt động của các tổ chức thành viên"),
]

# The main menu's non-news pages, by kind (see grammars.MenuPaths): kind -> (title, paragraphs).
MENU_PAGES = {
    "intro": (
        "Giới thiệu",
        [
            "Liên minh Hợp tác xã tỉnh Thái Bình là tổ chức kinh tế - xã hội, hoạt động theo "
            "Điều lệ Liên minh Hợp tác xã Việt Nam, tập hợp các hợp tác xã, liên hiệp hợp tác xã, "
            "quỹ tín dụng nhân dân và tổ hợp tác trên địa bàn tỉnh.",
            "Liên minh có chức năng đại diện, bảo vệ quyền và lợi ích hợp pháp của các thành viên; "
            "tuyên truyền, vận động phát triển kinh tế tập thể; tư vấn, hỗ trợ thành lập mới và "
            "nâng cao năng lực hoạt động cho các hợp tác xã.",
            "Cơ quan thường trực gồm Văn phòng, Ban Kiểm tra, Ban Tuyên truyền - Phát triển thành "
            "viên, Ban Chính sách - Hỗ trợ và Quỹ hỗ trợ phát triển hợp tác xã tỉnh.",
        ],
    ),
    "history": (
        "Lịch sử phát triển",
        [
            "Tiền thân của Liên minh Hợp tác xã tỉnh là Liên minh các hợp tác xã tỉnh, được thành "
            "lập sau khi tỉnh Thái Bình được tái lập.",
            "Qua các kỳ Đại hội, Liên minh không ngừng đổi mới nội dung, phương thức hoạt động, "
            "đồng hành cùng các hợp tác xã trong quá trình chuyển đổi theo Luật Hợp tác xã.",
        ],
    ),
    "organisation": (
        "Sơ đồ tổ chức",
        [
            "Thường trực Liên minh Hợp tác xã tỉnh: Chủ tịch và các Phó Chủ tịch.",
            "Ban Chấp hành Liên minh Hợp tác xã tỉnh nhiệm kỳ 2020 - 2025 gồm 27 ủy viên; Ban "
            "Thường vụ gồm 7 ủy viên; Ban Kiểm tra gồm 5 thành viên.",
            "Các ban chuyên môn: Văn phòng; Ban Kiểm tra; Ban Tuyên truyền - Phát triển thành "
            "viên; Ban Chính sách - Hỗ trợ.",
            "Đơn vị trực thuộc: Quỹ hỗ trợ phát triển hợp tác xã tỉnh; Trung tâm Tư vấn, hỗ trợ "
            "hợp tác xã và doanh nghiệp nhỏ và vừa.",
        ],
    ),
    "documents": (
        "Văn bản",
        [
            "Văn bản pháp luật, văn bản chỉ đạo, điều hành của Liên minh Hợp tác xã tỉnh về phát "
            "triển kinh tế tập thể, hợp tác xã.",
        ],
    ),
    "contact": (
        "Liên hệ",
        [
            SITE_NAME,
            f"Địa chỉ: {ADDRESS}",
            f"Điện thoại: {PHONE} - Fax: {FAX}",
            f"Email: {EMAIL}",
        ],
    ),
}
ORGANISATION_CHART = "/Uploads/images/so-do-to-chuc.png"


class OfficialDocument(NamedTuple):
    """One document of the "Văn bản" page, as portals print it."""

    number: str  # số / ký hiệu, e.g. "35/KH-LMHTX"
    kind: str  # loại văn bản, e.g. "Kế hoạch"
    issued: str  # ngày ban hành as printed, dd/mm/yyyy
    summary: str  # trích yếu
    path: str  # the PDF, under /Uploads/


DOCUMENTS = [
    OfficialDocument(
        "09/TB-LMHTX",
        "Thông báo",
        "28/11/2024",
        "Kết luận của Chủ tịch Liên minh Hợp tác xã tỉnh tại Hội nghị giao ban quý IV năm 2024",
        "/Uploads/files/van-ban/2024/tb-09-lmhtx.pdf",
    ),
    OfficialDocument(
        "35/KH-LMHTX",
        "Kế hoạch",
        "05/03/2024",
        "Tuyên truyền, phổ biến Luật Hợp tác xã năm 2023 và các văn bản hướng dẫn thi hành",
        "/Uploads/files/van-ban/2024/kh-35-lmhtx.pdf",
    ),
    OfficialDocument(
        "12/QĐ-LMHTX",
        "Quyết định",
        "12/01/2024",
        "Ban hành Quy chế làm việc của Ban Chấp hành Liên minh Hợp tác xã tỉnh nhiệm kỳ "
        "2020 - 2025",
        "/Uploads/files/van-ban/2024/qd-12-lmhtx.pdf",
    ),
    OfficialDocument(
        "118/LMHTX-VP",
        "Công văn",
        "20/09/2023",
        "V/v đăng ký tham gia Hội chợ sản phẩm OCOP và hợp tác xã năm 2023",
        "/Uploads/files/van-ban/2023/cv-118-lmhtx-vp.pdf",
    ),
    OfficialDocument(
        "17/2023/QH15",
        "Luật",
        "20/06/2023",
        "Luật Hợp tác xã",
        "/Uploads/files/van-ban/2023/luat-hop-tac-xa-17-2023-qh15.pdf",
    ),
]

DISTRICTS = ["Hưng Hà", "Đông Hưng", "Quỳnh Phụ", "Thái Thụy", "Tiền Hải", "Kiến Xương", "Vũ Thư"]
COMMUNES = [
    "Bình Định",
    "Điệp Nông",
    "Quỳnh Hải",
    "Đông Quý",
    "An Mỹ",
    "Thụy Việt",
    "Vũ Tiến",
    "Tây Sơn",
    "Nam Thịnh",
    "Hồng Minh",
    "Thái Thọ",
    "Duy Nhất",
    "Trọng Quan",
    "Đông Tân",
    "Quang Lanh",
    "Thụy Ninh",
]
COOP_KINDS = [
    "dịch vụ nông nghiệp",
    "sản xuất kinh doanh dịch vụ nông nghiệp",
    "nông nghiệp",
    "rau an toàn",
    "nuôi trồng thủy sản",
    "chăn nuôi",
    "dịch vụ tổng hợp",
]
PRODUCTS = [
    "lúa giống",
    "gạo chất lượng cao",
    "rau an toàn",
    "nấm rơm",
    "dưa lưới",
    "ngô ngọt",
    "mật ong",
    "bánh cáy",
    "cá rô đồng",
    "ngao",
    "tỏi",
    "chiếu cói",
    "hành tím",
    "khoai tây",
]
PROVINCES = [
    "Hà Nam",
    "Hải Dương",
    "Phú Thọ",
    "Sơn La",
    "Nam Định",
    "Lâm Đồng",
    "Bắc Giang",
    "Ninh Bình",
    "Hòa Bình",
]
TRAINING_TOPICS = [
    "quản trị hợp tác xã",
    "kế toán hợp tác xã",
    "chuyển đổi số",
    "xây dựng phương án sản xuất kinh doanh",
    "Luật Hợp tác xã năm 2023",
    "xúc tiến thương mại và xây dựng thương hiệu",
]
PARTNERS = [
    "Sở Nông nghiệp và Phát triển nông thôn",
    "Sở Kế hoạch và Đầu tư",
    "Sở Công Thương",
    "Hội Nông dân tỉnh",
    "Ngân hàng Nhà nước chi nhánh tỉnh",
    "Liên minh Hợp tác xã Việt Nam",
]
LAW_TOPICS = [
    "tổ chức quản trị hợp tác xã",
    "chính sách hỗ trợ của Nhà nước",
    "quyền và nghĩa vụ của thành viên",
    "phân phối thu nhập",
    "tổ hợp tác",
]
FAIRS = [
    "Nông nghiệp - OCOP khu vực đồng bằng sông Hồng",
    "Xúc tiến thương mại tỉnh Thái Bình",
    "Sản phẩm OCOP và hàng Việt",
    "Thương mại - Du lịch Thái Bình",
]
LEADERS = [
    ("Phạm Văn Hùng", "Phó Chủ tịch Liên minh HTX tỉnh"),
    ("Vũ Thị Lan", "Trưởng Ban Kiểm tra Liên minh HTX tỉnh"),
    ("Đỗ Quang Minh", "Chánh Văn phòng Liên minh HTX tỉnh"),
    ("Nguyễn Văn Thắng", "Phó Chủ tịch Ủy ban nhân dân huyện"),
    ("Lê Thị Thu", "Trưởng Ban Chính sách - Hỗ trợ Liên minh HTX tỉnh"),
    ("Hoàng Đức Anh", "Giám đốc Quỹ hỗ trợ phát triển HTX tỉnh"),
]
MEMBERS = [
    ("Ông", "Nguyễn Văn Hải"),
    ("Ông", "Trần Đức Long"),
    ("Bà", "Phạm Thị Hoa"),
    ("Ông", "Bùi Văn Tiến"),
    ("Ông", "Đặng Văn Quý"),
    ("Bà", "Ngô Thị Hằng"),
]
AUTHORS = [
    "Thùy Dung",
    "Minh Hà",
    "Ngọc Lan",
    "Hữu Tâm",
    "Thu Hương",
    "Văn Khải",
    "Quang Huy",
    "Thanh Thủy",
]
# The part of day a lead opens with; "{d}/{m}" or "{d}/{m}/{y}" follows.
# Sentences an editor adds to an article already published (`sample_site.generator.advance`).
UPDATES = [
    "bổ sung số liệu của các hợp tác xã đăng ký sau hội nghị",
    "điều chỉnh tên đơn vị phối hợp tổ chức",
    "sửa lại thời gian khai mạc theo thông báo mới của Ban tổ chức",
    "thêm danh sách các mô hình được khen thưởng",
    "đính chính số lượng thành viên tham gia",
]
WHEN = ["Sáng ngày", "Chiều ngày", "Ngày", "Sáng", "Chiều"]

# Title templates by category, each with its lead (opened by "{when}, ") and its event noun.
TEMPLATES: dict[str, list[tuple[str, str, str]]] = {
    "tin-tuc-su-kien": [
        (
            "Liên minh Hợp tác xã tỉnh tổ chức lớp tập huấn {training_topic} cho cán bộ quản lý "
            "HTX năm {year}",
            "Liên minh Hợp tác xã tỉnh phối hợp với {partner} tổ chức lớp tập huấn "
            "{training_topic} cho {people} học viên là thành viên Ban quản trị, Ban kiểm soát "
            "các hợp tác xã.",
            "lớp tập huấn",
        ),
        (
            "Hội nghị triển khai chính sách hỗ trợ phát triển kinh tế tập thể, hợp tác xã trên địa "
            "bàn huyện {district}",
            "tại Hội trường Ủy ban nhân dân huyện {district}, Liên minh Hợp tác xã tỉnh tổ chức "
            "Hội nghị triển khai các chính sách hỗ trợ phát triển kinh tế tập thể năm {year}.",
            "Hội nghị",
        ),
        (
            "Đoàn công tác Liên minh HTX tỉnh Thái Bình học tập kinh nghiệm mô hình hợp tác xã "
            "tiêu biểu tại tỉnh {province}",
            "đoàn công tác Liên minh Hợp tác xã tỉnh do đồng chí {leader} - {leader_role} làm "
            "trưởng đoàn đã đến thăm, học tập kinh nghiệm tại một số hợp tác xã tỉnh {province}.",
            "chuyến công tác",
        ),
        (
            "Liên minh HTX tỉnh làm việc với UBND huyện {district} về tình hình phát triển kinh tế "
            "tập thể {period}",
            "Liên minh Hợp tác xã tỉnh có buổi làm việc với Ủy ban nhân dân huyện {district} về "
            "kết quả phát triển kinh tế tập thể, hợp tác xã {period}.",
            "buổi làm việc",
        ),
        (
            "Tập huấn chuyển đổi số và ứng dụng thương mại điện tử cho các HTX nông nghiệp huyện "
            "{district}",
            "tại huyện {district}, Liên minh Hợp tác xã tỉnh tổ chức lớp tập huấn chuyển đổi số, "
            "hướng dẫn các hợp tác xã đưa sản phẩm {product} lên sàn thương mại điện tử.",
            "lớp tập huấn",
        ),
        (
            "Gặp mặt, tuyên dương các hợp tác xã, tổ hợp tác tiêu biểu nhân Ngày Hợp tác xã Việt "
            "Nam 11/4/{year}",
            "Liên minh Hợp tác xã tỉnh tổ chức gặp mặt, tuyên dương {n_awards} hợp tác xã, tổ hợp "
            "tác tiêu biểu nhân kỷ niệm Ngày Hợp tác xã Việt Nam.",
            "buổi gặp mặt",
        ),
        (
            "Hội nghị Ban Chấp hành Liên minh HTX tỉnh lần thứ {nth}, khóa VI, nhiệm kỳ "
            "2021 - 2026",
            "Ban Chấp hành Liên minh Hợp tác xã tỉnh tổ chức Hội nghị lần thứ {nth} đánh giá kết "
            "quả thực hiện nhiệm vụ {period}.",
            "Hội nghị",
        ),
        (
            "Hội thảo giải pháp nâng cao chất lượng sản phẩm OCOP cho các chủ thể là hợp tác xã",
            "Liên minh Hợp tác xã tỉnh phối hợp với {partner} tổ chức Hội thảo giải pháp nâng cao "
            "chất lượng sản phẩm OCOP, thu hút hơn {people} đại biểu tham dự.",
            "Hội thảo",
        ),
        (
            "Phát triển hợp tác xã kiểu mới gắn với xây dựng nông thôn mới nâng cao tại huyện "
            "{district}",
            "Ban Chỉ đạo phát triển kinh tế tập thể huyện {district} tổ chức đánh giá kết quả phát "
            "triển hợp tác xã kiểu mới gắn với xây dựng nông thôn mới nâng cao.",
            "Hội nghị",
        ),
        (
            "Trao giấy chứng nhận sản phẩm OCOP cho {n_ocop_new} sản phẩm của huyện {district}",
            "Ủy ban nhân dân huyện {district} tổ chức trao giấy chứng nhận cho {n_ocop_new} sản "
            "phẩm OCOP, trong đó có sản phẩm {product} của HTX {coop_kind} {commune}.",
            "buổi lễ",
        ),
    ],
    "chinh-sach-ho-tro": [
        (
            "Hướng dẫn hồ sơ đề nghị vay vốn Quỹ hỗ trợ phát triển hợp tác xã năm {year}",
            "Quỹ hỗ trợ phát triển hợp tác xã tỉnh ban hành văn bản hướng dẫn các hợp tác xã lập "
            "hồ sơ đề nghị vay vốn ưu đãi năm {year}.",
            "Hội nghị",
        ),
        (
            "Những điểm mới của Luật Hợp tác xã năm 2023 về {law_topic}",
            "Liên minh Hợp tác xã tỉnh tổ chức hội nghị phổ biến những điểm mới của Luật Hợp tác "
            "xã năm 2023, trong đó có các quy định về {law_topic}.",
            "Hội nghị",
        ),
        (
            "Quỹ hỗ trợ phát triển HTX tỉnh giải ngân {money} tỷ đồng cho {n_projects} dự án của "
            "hợp tác xã",
            "Quỹ hỗ trợ phát triển hợp tác xã tỉnh đã giải ngân {money} tỷ đồng cho {n_projects} "
            "dự án sản xuất {product} của các hợp tác xã.",
            "buổi làm việc",
        ),
        (
            "Triển khai kế hoạch hỗ trợ HTX ứng dụng khoa học công nghệ trong sản xuất {product} "
            "giai đoạn 2023 - 2025",
            "Ủy ban nhân dân tỉnh ban hành kế hoạch hỗ trợ các hợp tác xã ứng dụng khoa học công "
            "nghệ trong sản xuất, chế biến {product}.",
            "Hội nghị",
        ),
        (
            "Thái Bình: {n_projects} HTX được hỗ trợ đào tạo, bồi dưỡng nguồn nhân lực năm {year}",
            "Liên minh Hợp tác xã tỉnh cho biết đã có {n_projects} hợp tác xã được hỗ trợ kinh phí "
            "đào tạo, bồi dưỡng nguồn nhân lực theo kế hoạch của tỉnh.",
            "Hội nghị",
        ),
        (
            "Hỗ trợ {n_projects} hợp tác xã tham gia Hội chợ {fair} năm {year}",
            "Liên minh Hợp tác xã tỉnh hỗ trợ {n_projects} hợp tác xã tham gia Hội chợ {fair}, "
            "giới thiệu các sản phẩm {product}, {product2}.",
            "Hội chợ",
        ),
        (
            "Chính sách hỗ trợ hợp tác xã nông nghiệp đầu tư kết cấu hạ tầng, chế biến sản phẩm "
            "{product}",
            "Sở Nông nghiệp và Phát triển nông thôn hướng dẫn các hợp tác xã nông nghiệp lập hồ sơ "
            "đề nghị hỗ trợ đầu tư kết cấu hạ tầng, chế biến sản phẩm {product}.",
            "Hội nghị",
        ),
    ],
    "hd-cua-cac-tctv": [
        (
            "HTX {coop_kind} {commune} ({district}) liên kết sản xuất {product} theo chuỗi giá trị",
            "HTX {coop_kind} {commune}, huyện {district} tổ chức tổng kết mô hình liên kết sản "
            "xuất {product} theo chuỗi giá trị với doanh nghiệp.",
            "buổi tổng kết",
        ),
        (
            "Ra mắt HTX {coop_kind} {commune}, huyện {district}",
            "HTX {coop_kind} {commune}, huyện {district} tổ chức lễ ra mắt với {members_small} "
            "thành viên tham gia.",
            "lễ ra mắt",
        ),
        (
            "HTX {coop_kind} {commune} tổ chức Đại hội thành viên thường niên năm {year}",
            "HTX {coop_kind} {commune}, huyện {district} tổ chức Đại hội thành viên thường niên "
            "năm {year}.",
            "Đại hội",
        ),
        (
            "Hợp tác xã {commune} đưa sản phẩm {product} lên sàn thương mại điện tử",
            "HTX {coop_kind} {commune} chính thức đưa sản phẩm {product} lên sàn thương mại điện "
            "tử với sự hỗ trợ của Liên minh Hợp tác xã tỉnh.",
            "buổi ra mắt",
        ),
        (
            "Kiểm tra tình hình hoạt động của các Quỹ tín dụng nhân dân trên địa bàn huyện "
            "{district}",
            "đoàn kiểm tra của Liên minh Hợp tác xã tỉnh đã kiểm tra tình hình hoạt động của các "
            "Quỹ tín dụng nhân dân trên địa bàn huyện {district}.",
            "buổi làm việc",
        ),
    ],
}

# Body paragraphs any article may draw from.
PARAGRAPHS = [
    "Tham dự {event} có đại diện lãnh đạo {partner}, Phòng Nông nghiệp và Phát triển nông thôn "
    "huyện {district}, Ủy ban nhân dân các xã cùng đại diện Ban quản trị các hợp tác xã trên địa "
    "bàn.",
    "Phát biểu tại {event}, đồng chí {leader} - {leader_role} nhấn mạnh: kinh tế tập thể, hợp tác "
    "xã có vai trò quan trọng trong phát triển kinh tế - xã hội của địa phương, góp phần giải "
    "quyết việc làm, nâng cao thu nhập cho người dân.",
    "Tính đến hết tháng {month_year}, toàn tỉnh có {n_coops} hợp tác xã, {n_qtd} Quỹ tín dụng "
    "nhân dân và {n_thd} tổ hợp tác với hơn {members} thành viên; doanh thu bình quân của một hợp "
    "tác xã đạt khoảng {revenue} tỷ đồng/năm.",
    "Trong {period}, Liên minh Hợp tác xã tỉnh đã tư vấn, hỗ trợ thành lập mới {n_new} hợp tác "
    "xã, nâng tổng số hợp tác xã thành lập mới từ đầu nhiệm kỳ lên {n_new2} hợp tác xã.",
    "Các học viên được truyền đạt những nội dung cơ bản về {training_topic}; kỹ năng xây dựng "
    "phương án sản xuất kinh doanh, quản lý tài chính, kế toán và cách tiếp cận các chính sách hỗ "
    "trợ của Nhà nước.",
    "Hiện nay, HTX {coop_kind} {commune} có {members_small} thành viên, canh tác trên diện tích "
    "{area} ha; sản phẩm {product} của HTX đã được chứng nhận VietGAP, được các siêu thị, bếp ăn "
    "tập thể trong và ngoài tỉnh tin dùng.",
    "Nhờ liên kết với doanh nghiệp bao tiêu đầu ra, giá bán {product} của thành viên ổn định hơn, "
    "lợi nhuận tăng từ 15 - 20% so với sản xuất nhỏ lẻ trước đây.",
    "Theo Luật Hợp tác xã năm 2023, hợp tác xã được Nhà nước hỗ trợ về phát triển nguồn nhân lực, "
    "xúc tiến thương mại, mở rộng thị trường, ứng dụng khoa học, kỹ thuật, công nghệ mới, tiếp "
    "cận vốn và Quỹ hỗ trợ phát triển hợp tác xã.",
    "Đối tượng được vay vốn là các hợp tác xã, liên hiệp hợp tác xã có phương án sản xuất kinh "
    "doanh khả thi, có trụ sở trên địa bàn tỉnh; mức cho vay tối đa không quá {loan} triệu "
    "đồng/dự án, thời hạn cho vay tối đa 5 năm.",
    "Hồ sơ đề nghị hỗ trợ gửi về Văn phòng Liên minh Hợp tác xã tỉnh trước ngày {deadline}; mọi "
    "thắc mắc xin liên hệ số điện thoại 0227.3 831 234 để được hướng dẫn.",
    "Tại {event}, đại diện các hợp tác xã đã nêu những khó khăn, vướng mắc về mặt bằng sản xuất, "
    "tiếp cận nguồn vốn tín dụng, chất lượng nguồn nhân lực và thị trường tiêu thụ sản phẩm.",
    "Kết luận {event}, đồng chí {leader} đề nghị các hợp tác xã tiếp tục đổi mới phương thức "
    "hoạt động, chủ động liên kết với doanh nghiệp, tăng cường ứng dụng công nghệ số trong quản "
    "lý, sản xuất và tiêu thụ sản phẩm.",
    "Năm {year}, toàn tỉnh có {n_ocop} sản phẩm OCOP được Ủy ban nhân dân tỉnh cấp giấy chứng "
    "nhận, trong đó có {n_ocop4} sản phẩm đạt 4 sao; các hợp tác xã là chủ thể của {n_ocop_coop} "
    "sản phẩm.",
    "Thời gian tới, Liên minh Hợp tác xã tỉnh sẽ tiếp tục phối hợp với các sở, ngành, địa phương "
    "tuyên truyền, phổ biến chính sách, pháp luật về kinh tế tập thể, đồng thời hỗ trợ các hợp "
    "tác xã xây dựng thương hiệu, quảng bá sản phẩm.",
    "Đoàn đã tham quan mô hình sản xuất {product} ứng dụng công nghệ cao, khu sơ chế, đóng gói "
    "sản phẩm và trao đổi kinh nghiệm về tổ chức bộ máy, phương thức quản trị, phân phối lợi "
    "nhuận cho thành viên.",
    "Các thành viên HTX được tập huấn kỹ thuật, được cung ứng giống, phân bón, thuốc bảo vệ thực "
    "vật với giá ưu đãi và được HTX bao tiêu toàn bộ sản phẩm theo hợp đồng.",
    "Đại hội đã thông qua báo cáo kết quả sản xuất kinh doanh năm {prev_year}, phương hướng nhiệm "
    "vụ năm {year}, phương án phân phối thu nhập và kiện toàn Ban quản trị, Ban kiểm soát.",
    "Bên cạnh kết quả đạt được, hoạt động của một số hợp tác xã còn gặp nhiều khó khăn; quy mô "
    "nhỏ, vốn hoạt động ít, cơ sở vật chất còn hạn chế, năng lực quản lý của cán bộ chưa đáp ứng "
    "yêu cầu.",
    "Nhân dịp này, Liên minh Hợp tác xã tỉnh đã tặng Bằng khen cho {n_awards} tập thể và "
    "{n_awards2} cá nhân có thành tích xuất sắc trong phong trào phát triển kinh tế tập thể.",
    "Sau khi hoàn thành khóa học, các học viên được cấp giấy chứng nhận; đây là cơ sở để các hợp "
    "tác xã chuẩn hóa đội ngũ cán bộ quản lý theo quy định của Luật Hợp tác xã năm 2023.",
    "Theo kế hoạch, trong năm {year}, Liên minh Hợp tác xã tỉnh sẽ tổ chức {n_classes} lớp tập "
    "huấn, bồi dưỡng cho khoảng {people_big} lượt cán bộ quản lý, thành viên hợp tác xã.",
    "Đây là dịp để các hợp tác xã giới thiệu, quảng bá sản phẩm đặc trưng như {product}, "
    "{product2}, tìm kiếm đối tác và mở rộng thị trường tiêu thụ.",
    "Đến nay, {n_qtd} Quỹ tín dụng nhân dân trên địa bàn tỉnh hoạt động an toàn, hiệu quả; tổng "
    "nguồn vốn đạt trên {money_big} tỷ đồng, tỷ lệ nợ xấu được kiểm soát ở mức dưới 1%.",
    "{member_title} {member_name}, Giám đốc HTX {coop_kind} {commune} cho biết: “Được tham gia "
    "chuỗi liên kết, thành viên yên tâm sản xuất, không còn lo cảnh được mùa mất giá như trước "
    "đây”.",
    "Liên minh Hợp tác xã tỉnh đề nghị Ủy ban nhân dân huyện {district} quan tâm chỉ đạo các "
    "phòng, ban chuyên môn, Ủy ban nhân dân các xã tạo điều kiện về đất đai, mặt bằng để hợp tác "
    "xã xây dựng kho bãi, nhà xưởng.",
    "Chương trình được thực hiện theo Kế hoạch của Ủy ban nhân dân tỉnh về phát triển kinh tế "
    "tập thể, hợp tác xã giai đoạn 2021 - 2025, tập trung vào hợp tác xã nông nghiệp gắn với sản "
    "phẩm chủ lực của địa phương.",
]

CAPTIONS = [
    "Quang cảnh {event}",
    "Đồng chí {leader} - {leader_role} phát biểu tại {event}",
    "Các đại biểu tham quan mô hình sản xuất {product} của HTX {commune}",
    "Lãnh đạo Liên minh HTX tỉnh trao giấy chứng nhận cho các hợp tác xã",
    "Sản phẩm {product} của HTX {coop_kind} {commune}",
    "Đại biểu dự {event} chụp ảnh lưu niệm",
]
