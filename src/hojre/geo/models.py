from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hojre.core.db import Base


class Country(Base):
    __tablename__ = "countries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(2), unique=True)
    name: Mapped[str] = mapped_column(String(100))


class State(Base):
    """A province. The v1 contract calls provinces "states"."""

    __tablename__ = "states"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    country_id: Mapped[int] = mapped_column(ForeignKey("countries.id"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    english_title: Mapped[str] = mapped_column(String(100))
    # Kept as the decimal strings the contract sends.
    longitude: Mapped[str] = mapped_column(String(20))
    latitude: Mapped[str] = mapped_column(String(20))


class City(Base):
    __tablename__ = "cities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state_id: Mapped[int] = mapped_column(ForeignKey("states.id"), index=True)
    title: Mapped[str] = mapped_column(String(100))


class Hood(Base):
    __tablename__ = "hoods"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id"), index=True)
    title: Mapped[str] = mapped_column(String(100))
