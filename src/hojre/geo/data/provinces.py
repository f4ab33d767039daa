"""Iran's 31 provinces, served as "states" by the v1 contract.

Ids, English titles and coordinates follow the legacy API so that clients holding
old ids keep working. Persian titles use Persian ی/ک (the legacy rows mixed in
Arabic ك) and the official spelling of two provinces whose legacy titles were
misspelt: "كهكیلویه وبویراحمد" and "چهارمحال بختیاری".
"""

from __future__ import annotations

from typing import Final, NamedTuple


class Province(NamedTuple):
    id: int
    title: str
    english_title: str
    # Decimal strings, because the contract sends them as strings verbatim.
    longitude: str
    latitude: str


PROVINCES: Final[tuple[Province, ...]] = (
    Province(1, "تهران", "Tehran", "51.613521", "35.619787"),
    Province(2, "اصفهان", "Esfehan", "51.6411826", "32.6543035"),
    Province(3, "فارس", "Fars", "53.020421", "29.207092"),
    Province(4, "خوزستان", "Khouzestan", "48.894062", "31.672187"),
    Province(5, "مازندران", "Mazandaran", "52.264634", "36.350872"),
    Province(6, "گیلان", "Gilan", "49.358143", "37.254778"),
    Province(7, "خراسان رضوی", "Khorasan Razavi", "58.855368", "35.699608"),
    Province(8, "آذربایجان شرقی", "Azarbayejan Sharghi", "46.647626", "37.875499"),
    Province(9, "آذربایجان غربی", "Azarbayejan Gharbi", "44.965059", "37.540774"),
    Province(10, "هرمزگان", "Hormozgan", "56.665102", "27.691953"),
    Province(11, "کرمان", "Kerman", "57.056635", "30.274218"),
    Province(12, "بوشهر", "Boshehr", "50.895271", "28.899536"),
    Province(13, "یزد", "Yazd", "54.338138", "31.884787"),
    Province(14, "البرز", "Alborz", "50.882333", "36.055187"),
    Province(15, "گلستان", "Golestan", "54.969994", "37.220295"),
    Province(16, "قم", "Qom", "50.867163", "34.638238"),
    Province(17, "سیستان و بلوچستان", "Sistan va Balochestan", "60.656972", "27.651762"),
    Province(18, "مرکزی", "Markazi", "49.849804", "34.533287"),
    Province(19, "کرمانشاه", "Kermanshah", "47.084885", "34.335549"),
    Province(20, "همدان", "Hamedan", "48.516245", "34.805825"),
    Province(21, "لرستان", "Lorestan", "48.444101", "33.540360"),
    Province(22, "قزوین", "Qazvin", "50.004497", "36.269729"),
    Province(23, "سمنان", "Semnan", "54.577438", "35.320108"),
    Province(24, "کردستان", "Kordestan", "46.953194", "35.742340"),
    Province(25, "اردبیل", "Ardebil", "48.2709935", "38.2666961"),
    Province(26, "زنجان", "Zanjan", "48.4231832", "36.681"),
    Province(27, "چهارمحال و بختیاری", "Chaharmahal va Bakhtiari", "49.9961891", "31.9053982"),
    Province(28, "کهگیلویه و بویراحمد", "Kohkiloye Va Boyerahmad", "50.244307", "30.840906"),
    Province(29, "خراسان جنوبی", "Khorasane Jonobi", "55.9821802", "32.7569972"),
    Province(30, "خراسان شمالی", "Khorasane Shomali", "56.343524", "37.4516751"),
    Province(31, "ایلام", "Ilam", "46.3949339", "33.6339967"),
)
