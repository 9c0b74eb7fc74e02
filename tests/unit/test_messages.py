"""Position message parsing (three shapes), rejection reasons, teleports, and writing bodies."""

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.positions.formats import (
    BodyFormat,
    encode_position,
    fleetman_body,
    format_iso_timestamp,
    format_java_timestamp,
    jms_map_json_body,
    position_body,
)
from services.positions.geo import Fix
from services.positions.messages import (
    Position,
    Rejection,
    RejectReason,
    check_teleport,
    parse_position,
    vehicle_name_problem,
)

NOW = datetime(2025, 10, 30, 15, 40, 0, tzinfo=UTC)


def ours(**overrides):
    body = {
        "vehicle": "City Truck",
        "lat": 53.3798,
        "lng": -1.4662,
        "timestamp": "2025-10-30T15:35:58.364Z",
    }
    body.update(overrides)
    return json.dumps({k: v for k, v in body.items() if v is not ...})


def parse(body, **kwargs):
    return parse_position(body, now=kwargs.pop("now", NOW), **kwargs)


def rejected(body, **kwargs) -> Rejection:
    result = parse(body, **kwargs)
    assert isinstance(result, Rejection), result
    return result


# --------------------------------------------------------------------------- shape 1: ours


def test_our_json_shape_is_parsed():
    result = parse(ours())
    assert result == Position(
        "City Truck",
        53.3798,
        -1.4662,
        datetime(2025, 10, 30, 15, 35, 58, 364000, tzinfo=UTC),
        BodyFormat.JSON,
    )


def test_bytes_body_is_accepted():
    assert isinstance(parse(ours().encode()), Position)


def test_timestamp_with_offset_is_converted_to_utc():
    result = parse(ours(timestamp="2025-10-30T16:35:58+01:00"))
    assert isinstance(result, Position)
    assert result.timestamp == datetime(2025, 10, 30, 15, 35, 58, tzinfo=UTC)
    assert result.timestamp.utcoffset() == timedelta(0)


def test_integer_coordinates_are_numbers_too():
    result = parse(ours(lat=53, lng=-1))
    assert isinstance(result, Position)
    assert (result.latitude, result.longitude) == (53.0, -1.0)


def test_range_boundaries_are_inclusive():
    assert isinstance(parse(ours(lat=90, lng=-180)), Position)
    assert isinstance(parse(ours(lat=-90, lng=180)), Position)


# --------------------------------------------------------------------------- shape 2: fleetman


def test_original_fleetman_four_strings_are_parsed():
    body = json.dumps(
        {
            "vehicle": "City Truck",
            "lat": "53.3798165805637836456298828125",
            "long": "-1.46622528322041034698486328125",
            "time": "2025-10-30T15:35:58.364+0000",
        }
    )
    result = parse(body)
    assert isinstance(result, Position)
    assert result.vehicle == "City Truck"
    assert result.latitude == pytest.approx(53.37981658056378)
    assert result.longitude == pytest.approx(-1.4662252832204103)
    assert result.timestamp == datetime(2025, 10, 30, 15, 35, 58, 364000, tzinfo=UTC)
    assert result.body_format is BodyFormat.FLEETMAN


def test_java_timestamp_with_non_utc_zone():
    body = json.dumps(
        {"vehicle": "V", "lat": "53.1", "long": "-1.2", "time": "2025-10-30T17:35:58.364+0200"}
    )
    result = parse(body)
    assert isinstance(result, Position)
    assert result.timestamp == datetime(2025, 10, 30, 15, 35, 58, 364000, tzinfo=UTC)


# --------------------------------------------------------------------------- shape 3: jms-map-json


def test_activemq_jms_map_json_is_parsed():
    # As ActiveMQ's StompTest expects for a MapMessage: {"map":{"entry":[{"string":[k,v]},...]}}
    body = (
        '{"map":{"entry":['
        '{"string":["vehicle","Village Truck"]},'
        '{"string":["lat","53.37"]},'
        '{"string":["long","-1.48"]},'
        '{"string":["time","2025-10-30T15:35:58.364+0000"]}'
        "]}}"
    )
    result = parse(body)
    assert isinstance(result, Position)
    assert result.vehicle == "Village Truck"
    assert (result.latitude, result.longitude) == (53.37, -1.48)
    assert result.body_format is BodyFormat.JMS_MAP_JSON


def test_jms_map_json_numbers_from_jettison_and_typed_entries():
    # Jettison's default converter turns numeric strings into numbers; a non-string value is
    # written by XStream as its own typed key next to the "string" key.
    body = json.dumps(
        {
            "map": {
                "entry": [
                    {"string": ["vehicle", "Factory Run A"]},
                    {"string": ["lat", 53.3798165805637836456298828125]},
                    {"string": "long", "double": -1.46622528322041},
                    {"string": ["time", "2025-10-30T15:35:58.364+0000"]},
                ]
            }
        }
    )
    result = parse(body)
    assert isinstance(result, Position)
    assert result.latitude == pytest.approx(53.37981658056378)
    assert result.longitude == pytest.approx(-1.46622528322041)


def test_jms_map_json_single_entry_is_an_object_not_a_list():
    result = rejected('{"map":{"entry":{"string":["vehicle","City Truck"]}}}')
    assert result.reason is RejectReason.MISSING_FIELD
    assert "lat" in result.detail and "time" in result.detail
    assert "vehicle" not in result.detail


def test_jms_map_json_numeric_vehicle_name_comes_back_as_text():
    body = jms_map_json_body(
        {"vehicle": "1", "lat": "53", "long": "-1", "time": "2025-10-30T15:35:58.364+0000"}
    ).replace('["vehicle", "1"]', '["vehicle", 1]')
    result = parse(body)
    assert isinstance(result, Position)
    assert result.vehicle == "1"


@pytest.mark.parametrize(
    "body",
    [
        '{"map":{"entry":[{"string":["vehicle"]}]}}',
        '{"map":{"entry":["vehicle"]}}',
        '{"map":{"entry":5}}',
        '{"map":{"item":[]}}',
        '{"map":"nonsense"}',
    ],
)
def test_unrecognisable_jms_map_json_is_bad_json(body):
    assert rejected(body).reason is RejectReason.BAD_JSON


def test_empty_jms_map_reports_every_field_missing():
    result = rejected('{"map":null}')
    assert result.reason is RejectReason.MISSING_FIELD


# --------------------------------------------------------------------------- rejections


@pytest.mark.parametrize(
    "body",
    ["", "not json", "{", b"\xff\xfe{}", "[1, 2]", '"text"', "null", "{" * 5000],
)
def test_bad_json(body):
    assert rejected(body).reason is RejectReason.BAD_JSON


def test_oversized_body_is_bad_json():
    assert rejected(ours(vehicle="x" * 70_000)).reason is RejectReason.BAD_JSON


@pytest.mark.parametrize("field", ["vehicle", "lat", "lng", "timestamp"])
def test_missing_field_is_named(field):
    result = rejected(ours(**{field: ...}))
    assert result.reason is RejectReason.MISSING_FIELD
    assert field in result.detail


def test_null_field_counts_as_missing():
    assert rejected(ours(lat=None)).reason is RejectReason.MISSING_FIELD


@pytest.mark.parametrize(
    "overrides",
    [
        {"lat": "north"},
        {"lat": True},
        {"lng": [1.0]},
        {"lng": {"value": 1}},
        {"lat": "1e400"},
        {"lat": "NaN"},
        {"lat": "0x10"},
        {"lat": "1" * 80},
        {"timestamp": "yesterday"},
        {"timestamp": 1730302558},
        {"timestamp": "2025-10-30T15:35:58"},  # no offset: ambiguous
        {"timestamp": "2025-13-30T15:35:58Z"},
    ],
)
def test_bad_type(overrides):
    assert rejected(ours(**overrides)).reason is RejectReason.BAD_TYPE


@pytest.mark.parametrize("overrides", [{"lat": "53.38"}, {"lng": "-1.47"}, {"lng": " 0 "}])
def test_our_format_takes_coordinates_as_json_numbers_only(overrides):
    """Only the original Fleetman formats carry decimal strings (they are accepted there)."""
    result = rejected(ours(**overrides))
    assert result.reason is RejectReason.BAD_TYPE
    assert "string, not a JSON number" in result.detail


def test_nan_literal_is_bad_type():
    body = ours().replace("53.3798", "NaN")
    assert rejected(body).reason is RejectReason.BAD_TYPE


@pytest.mark.parametrize("lat", [90.0001, -91, 1000])
def test_latitude_out_of_range(lat):
    assert rejected(ours(lat=lat)).reason is RejectReason.LATITUDE_OUT_OF_RANGE


@pytest.mark.parametrize("lng", [180.5, -181])
def test_longitude_out_of_range(lng):
    assert rejected(ours(lng=lng)).reason is RejectReason.LONGITUDE_OUT_OF_RANGE


def test_future_timestamp_beyond_default_skew():
    five_minutes = (NOW + timedelta(minutes=5)).isoformat()
    six_minutes = (NOW + timedelta(minutes=6)).isoformat()
    assert isinstance(parse(ours(timestamp=five_minutes)), Position)
    assert rejected(ours(timestamp=six_minutes)).reason is RejectReason.FUTURE_TIMESTAMP


def test_future_skew_is_configurable():
    ahead = (NOW + timedelta(seconds=30)).isoformat()
    result = parse(ours(timestamp=ahead), max_future_skew=timedelta(seconds=10))
    assert isinstance(result, Rejection)
    assert result.reason is RejectReason.FUTURE_TIMESTAMP


def test_past_timestamps_are_fine():
    assert isinstance(parse(ours(timestamp="2001-01-01T00:00:00Z")), Position)


@pytest.mark.parametrize(
    "timestamp", ["1970-01-01T00:00:00Z", (NOW - timedelta(hours=24, seconds=1)).isoformat()]
)
def test_a_position_older_than_the_bound_is_too_old(timestamp):
    result = parse(ours(timestamp=timestamp), max_age=timedelta(hours=24))
    assert isinstance(result, Rejection)
    assert result.reason is RejectReason.TOO_OLD
    assert "old (allowed 86400 s)" in result.detail


def test_a_position_just_inside_the_age_bound_is_kept():
    inside = (NOW - timedelta(hours=23, minutes=59)).isoformat()
    assert isinstance(parse(ours(timestamp=inside), max_age=timedelta(hours=24)), Position)


@pytest.mark.parametrize(
    "name",
    ["", "   ", "x" * 101, "$where", "$gt", "bad\x00name", "line\nbreak", "a/b", "..\\x", 42],
)
def test_bad_vehicle_name(name):
    assert rejected(ours(vehicle=name)).reason is RejectReason.BAD_VEHICLE_NAME
    assert vehicle_name_problem(name) is not None


@pytest.mark.parametrize("name", ["City Truck", "x" * 100, "Small Parcel Service1", "Ünïcode 🚚"])
def test_good_vehicle_names(name):
    assert vehicle_name_problem(name) is None
    assert isinstance(parse(ours(vehicle=name)), Position)


def test_reject_reasons_are_a_small_closed_set_of_label_values():
    values = {reason.value for reason in RejectReason}
    assert values >= {
        "bad_json",
        "missing_field",
        "bad_type",
        "latitude_out_of_range",
        "longitude_out_of_range",
        "future_timestamp",
        "bad_vehicle_name",
        "teleport",
    }
    assert len(values) <= 12
    assert all(value.isidentifier() and value.islower() for value in values)


def test_rejection_detail_is_one_bounded_line():
    result = rejected(ours(vehicle="evil\r\nname" + "y" * 500))
    assert "\n" not in result.detail and "\r" not in result.detail
    assert len(result.detail) <= 200


def test_parse_never_raises_on_garbage():
    for body in [b"\x00", "{}", '{"map": []}', '{"map": [1, 2]}', '{"vehicle": {}}', "1e999"]:
        assert isinstance(parse(body), Rejection)


# --------------------------------------------------------------------------- teleports


def test_teleport_above_300_kmh():
    start = Fix(53.0, -1.5, NOW)
    # ~1.11 km north in 10 s is ~400 km/h
    far = Fix(53.01, -1.5, NOW + timedelta(seconds=10))
    result = check_teleport(start, far)
    assert isinstance(result, Rejection)
    assert result.reason is RejectReason.TELEPORT


def test_plausible_speed_is_not_a_teleport():
    start = Fix(53.0, -1.5, NOW)
    near = Fix(53.01, -1.5, NOW + timedelta(seconds=60))  # ~67 km/h
    assert check_teleport(start, near) is None
    assert check_teleport(near, start) is None  # order does not matter


def test_teleport_limit_is_configurable():
    start = Fix(53.0, -1.5, NOW)
    near = Fix(53.01, -1.5, NOW + timedelta(seconds=60))  # ~67 km/h
    assert check_teleport(start, near, limit_kmh=50) is not None


def test_same_timestamp_duplicate_is_not_a_teleport_but_a_jump_is():
    start = Fix(53.0, -1.5, NOW)
    assert check_teleport(start, Fix(53.0, -1.5, NOW)) is None
    jump = check_teleport(start, Fix(53.001, -1.5, NOW))
    assert jump is not None and jump.reason is RejectReason.TELEPORT


def test_check_teleport_accepts_positions():
    first = parse(ours(lat=53.0, lng=-1.5, timestamp="2025-10-30T15:00:00Z"))
    second = parse(ours(lat=53.5, lng=-1.5, timestamp="2025-10-30T15:01:00Z"))
    assert isinstance(first, Position) and isinstance(second, Position)
    assert check_teleport(first, second) is not None


# --------------------------------------------------------------------------- writing


def test_java_timestamp_format():
    moment = datetime(2025, 10, 30, 16, 35, 58, 364999, tzinfo=timezone(timedelta(hours=1)))
    assert format_java_timestamp(moment) == "2025-10-30T15:35:58.364+0000"
    assert format_java_timestamp(datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)) == (
        "2025-01-02T03:04:05.000+0000"
    )


def test_iso_timestamp_format():
    moment = datetime(2025, 10, 30, 15, 35, 58, 364000, tzinfo=UTC)
    assert format_iso_timestamp(moment) == "2025-10-30T15:35:58.364Z"


def test_formatting_a_naive_datetime_is_an_error():
    with pytest.raises(ValueError):
        format_java_timestamp(datetime(2025, 1, 1))


def test_fleetman_body_has_the_original_four_string_keys():
    moment = datetime(2025, 10, 30, 15, 35, 58, 364000, tzinfo=UTC)
    body = json.loads(fleetman_body("City Truck", 53.3798165805638, -1.46622528322041, moment))
    assert body == {
        "vehicle": "City Truck",
        "lat": "53.3798165805638",
        "long": "-1.46622528322041",
        "time": "2025-10-30T15:35:58.364+0000",
    }


def test_small_coordinates_are_written_without_exponent():
    moment = datetime(2025, 10, 30, tzinfo=UTC)
    body = json.loads(fleetman_body("V", 1e-7, -2.5e-6, moment))
    assert body["lat"] == "0.0000001"
    assert body["long"] == "-0.0000025"


@pytest.mark.parametrize("body_format", list(BodyFormat))
def test_every_written_format_parses_back_to_the_same_position(body_format):
    original = Position(
        "Sheffield Truck A",
        53.37812345,
        -1.50123456,
        datetime(2025, 10, 30, 15, 35, 58, 364000, tzinfo=UTC),
        body_format,
    )
    result = parse(encode_position(original, body_format))
    assert result == original


def test_our_body_keys():
    moment = datetime(2025, 10, 30, 15, 35, 58, 364000, tzinfo=UTC)
    assert json.loads(position_body("V", 53.0, -1.0, moment)) == {
        "vehicle": "V",
        "lat": 53.0,
        "lng": -1.0,
        "timestamp": "2025-10-30T15:35:58.364Z",
    }


def test_jms_map_json_body_matches_activemq_rendering():
    text = jms_map_json_body({"name": "Dejan", "city": "Belgrade"})
    expected = '{"map":{"entry":[{"string":["name","Dejan"]},{"string":["city","Belgrade"]}]}}'
    assert json.loads(text) == json.loads(expected)


@pytest.mark.parametrize(
    ("body", "vehicle"),
    [
        (
            json.dumps(
                {"vehicle": "Named Van", "lat": 91.0, "lng": -1.5, "timestamp": NOW.isoformat()}
            ),
            "Named Van",
        ),
        (json.dumps({"vehicle": "Named Van", "lat": 53.0}), "Named Van"),
        (
            json.dumps(
                {"vehicle": "Named Van", "lat": "53", "lng": -1.5, "timestamp": NOW.isoformat()}
            ),
            "Named Van",
        ),
        (
            json.dumps({"vehicle": "$bad", "lat": 53.0, "lng": -1.5, "timestamp": NOW.isoformat()}),
            None,
        ),
        (json.dumps({"lat": 53.0}), None),
        ("{not json", None),
    ],
)
def test_a_rejection_names_the_vehicle_when_the_message_has_a_valid_one(body, vehicle):
    result = parse(body)
    assert isinstance(result, Rejection)
    assert result.vehicle == vehicle
