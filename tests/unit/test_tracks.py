"""Loading track folders: GPX (timed and untimed) and the original Fleetman plain format."""

from pathlib import Path

import pytest

from services.position_simulator.pacing import VehicleModel, paced_offsets
from services.position_simulator.tracks import (
    Track,
    TrackFormatError,
    load_track,
    load_tracks,
    vehicle_name_from_stem,
)
from services.positions.geo import distance_m

COMMITTED = Path(__file__).resolve().parents[2] / "services" / "position_simulator" / "tracks"

GPX_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">\n'
)


def gpx(points: list[tuple[float, float, str | None]], name: str | None = None) -> str:
    lines = [GPX_HEAD, "<trk>\n"]
    if name is not None:
        lines.append(f"<name>{name}</name>\n")
    lines.append("<trkseg>\n")
    for lat, lon, time in points:
        lines.append(f'<trkpt lat="{lat}" lon="{lon}">')
        if time:
            lines.append(f"<time>{time}</time>")
        lines.append("</trkpt>\n")
    lines.append("</trkseg>\n</trk>\n</gpx>\n")
    return "".join(lines)


@pytest.mark.parametrize(
    ("stem", "name"),
    [
        ("city_truck", "City Truck"),
        ("factory_run_a", "Factory Run A"),
        ("small_parcel_service1", "Small Parcel Service1"),
        ("electronics_pcb_rush_deliveries", "Electronics Pcb Rush Deliveries"),
        ("TOP_SECRET", "Top Secret"),
    ],
)
def test_vehicle_name_rule_of_the_original(stem, name):
    assert vehicle_name_from_stem(stem) == name


def test_timed_gpx_keeps_its_timing_and_uses_the_track_name(tmp_path):
    path = tmp_path / "whatever.gpx"
    path.write_text(
        gpx(
            [
                (53.37, -1.50, "2025-01-06T08:00:00Z"),
                (53.371, -1.50, "2025-01-06T08:00:04Z"),
                (53.372, -1.50, "2025-01-06T08:00:09.500Z"),
            ],
            name="Night Van",
        )
    )
    track = load_track(path)
    assert track.vehicle == "Night Van"
    assert [p.offset_s for p in track.points] == [0.0, 4.0, 9.5]
    assert (track.points[1].lat, track.points[1].lon) == (53.371, -1.5)
    assert track.duration_s == 9.5


def test_gpx_without_a_name_is_named_after_the_file(tmp_path):
    path = tmp_path / "village_truck.gpx"
    path.write_text(gpx([(53.0, -1.0, None), (53.001, -1.0, None)]))
    assert load_track(path).vehicle == "Village Truck"


def test_untimed_gpx_is_paced_by_the_van_model_at_the_given_top_speed(tmp_path):
    path = tmp_path / "van.gpx"
    points = [(53.0, -1.5, None), (53.001, -1.5, None), (53.003, -1.5, None)]
    path.write_text(gpx(points))
    default = load_track(path)
    expected = paced_offsets([(lat, lon) for lat, lon, _ in points], VehicleModel(cruise_kmh=40))
    assert [p.offset_s for p in default.points] == pytest.approx(expected)
    # It starts and ends at rest, so it takes longer than the whole way at top speed.
    assert default.duration_s > distance_m(53.0, -1.5, 53.003, -1.5) / (40 / 3.6)
    fast = load_track(path, untimed_speed_kmh=80)
    assert fast.duration_s < default.duration_s


def test_gpx_route_is_used_when_there_is_no_track(tmp_path):
    path = tmp_path / "route.gpx"
    path.write_text(
        GPX_HEAD
        + '<rte><name>Route Van</name><rtept lat="53.0" lon="-1.0"/><rtept lat="53.01" lon="-1.0"/>'
        "</rte></gpx>\n"
    )
    track = load_track(path)
    assert track.vehicle == "Route Van"
    assert len(track.points) == 2


def test_original_plain_format_with_crlf_and_long_decimals(tmp_path):
    path = tmp_path / "city_truck"
    path.write_bytes(
        b'lat="53.3798165805637836456298828125" lon="-1.46622528322041034698486328125"\r\n'
        b'lat="53.3800000000000000000000000000" lon="-1.46600000000000000000000000000"\r\n'
    )
    track = load_track(path)
    assert track.vehicle == "City Truck"
    assert track.points[0].lat == pytest.approx(53.37981658056378)
    assert track.points[0].offset_s == 0
    expected = paced_offsets([(53.3798165805637836, -1.4662252832204103), (53.38, -1.466)])
    assert track.points[1].offset_s == pytest.approx(expected[1])


def test_original_plain_format_with_lf(tmp_path):
    path = tmp_path / "factory_run_a"
    path.write_text('lat="53.3906810" lon="-1.4312470"\nlat="53.3906900" lon="-1.4312000"\n')
    track = load_track(path, untimed_speed_kmh=20)
    assert track.vehicle == "Factory Run A"
    assert [(p.lat, p.lon) for p in track.points] == [
        (53.390681, -1.431247),
        (53.39069, -1.4312),
    ]


def test_folder_mixes_formats_sorted_and_ignores_other_files(tmp_path):
    (tmp_path / "b_van.gpx").write_text(gpx([(53.0, -1.0, None)]))
    (tmp_path / "a_van").write_text('lat="53.1" lon="-1.1"\n')
    (tmp_path / "README.md").write_text("# not a track\n")
    (tmp_path / ".hidden").write_text("junk")
    (tmp_path / "sub").mkdir()
    tracks = load_tracks(tmp_path)
    assert [t.vehicle for t in tracks] == ["A Van", "B Van"]
    assert all(isinstance(t, Track) for t in tracks)


def test_empty_folder_is_an_error_naming_it(tmp_path):
    (tmp_path / "notes.md").write_text("nothing here")
    with pytest.raises(TrackFormatError) as error:
        load_tracks(tmp_path)
    assert str(tmp_path) in str(error.value)


def test_missing_folder_is_an_error(tmp_path):
    with pytest.raises(TrackFormatError, match="does not exist"):
        load_tracks(tmp_path / "nope")


def test_malformed_plain_line_names_file_and_line(tmp_path):
    path = tmp_path / "bad_van"
    path.write_text('lat="53.1" lon="-1.1"\nlat="53.2" lon="-1.2"\nlatitude 53.3, -1.3\n')
    with pytest.raises(TrackFormatError) as error:
        load_track(path)
    assert error.value.line == 3
    assert f"{path}:3" in str(error.value)


def test_non_numeric_plain_value_names_the_line(tmp_path):
    path = tmp_path / "bad_van"
    path.write_text('lat="53.1" lon="-1.1"\r\nlat="north" lon="-1.2"\r\n')
    with pytest.raises(TrackFormatError) as error:
        load_track(path)
    assert error.value.line == 2


def test_out_of_range_plain_point_is_an_error(tmp_path):
    path = tmp_path / "bad_van"
    path.write_text('lat="95.0" lon="-1.1"\n')
    with pytest.raises(TrackFormatError, match="latitude") as error:
        load_track(path)
    assert error.value.line == 1


def test_empty_plain_file_is_an_error(tmp_path):
    path = tmp_path / "empty_van"
    path.write_text("\n\n")
    with pytest.raises(TrackFormatError, match="no points"):
        load_track(path)


def test_broken_xml_names_file_and_line(tmp_path):
    path = tmp_path / "broken.gpx"
    path.write_text(GPX_HEAD + "<trk><trkseg>\n<trkpt lat='1' lon='2'>\n</trk>\n</gpx>\n")
    with pytest.raises(TrackFormatError) as error:
        load_track(path)
    assert str(path) in str(error.value)
    assert error.value.line is not None


def test_gpx_with_some_times_missing_names_the_point_line(tmp_path):
    path = tmp_path / "mixed.gpx"
    path.write_text(gpx([(53.0, -1.0, "2025-01-06T08:00:00Z"), (53.001, -1.0, None)], name="Mixed"))
    with pytest.raises(TrackFormatError, match="no <time>") as error:
        load_track(path)
    # lines: xml declaration, <gpx>, <trk>, <name>, <trkseg>, first point, second point
    assert error.value.line == 7


def test_gpx_going_back_in_time_is_an_error(tmp_path):
    path = tmp_path / "backwards.gpx"
    path.write_text(
        gpx([(53.0, -1.0, "2025-01-06T08:00:10Z"), (53.001, -1.0, "2025-01-06T08:00:00Z")])
    )
    with pytest.raises(TrackFormatError, match="earlier"):
        load_track(path)


def test_gpx_without_points_is_an_error(tmp_path):
    path = tmp_path / "nothing.gpx"
    path.write_text(GPX_HEAD + "</gpx>\n")
    with pytest.raises(TrackFormatError, match="no track or route points"):
        load_track(path)


def test_two_files_for_one_vehicle_is_an_error(tmp_path):
    (tmp_path / "city_truck").write_text('lat="53.1" lon="-1.1"\n')
    (tmp_path / "city_truck.gpx").write_text(gpx([(53.0, -1.0, None)]))
    with pytest.raises(TrackFormatError, match="City Truck"):
        load_tracks(tmp_path)


def test_non_utf8_file_is_an_error(tmp_path):
    path = tmp_path / "latin_van"
    path.write_bytes(b'lat="53.1" lon="-1.1" \xe9\n')
    with pytest.raises(TrackFormatError, match="UTF-8"):
        load_track(path)


def test_committed_tracks_load():
    tracks = load_tracks(COMMITTED)
    assert len(tracks) >= 12
    assert len({t.vehicle for t in tracks}) == len(tracks)
    for track in tracks:
        assert track.points[0].offset_s == 0
        offsets = [p.offset_s for p in track.points]
        assert offsets == sorted(offsets)
