"""The stand-in's seed data: a handful of realistic records and communities with fixed
ids, dates and bytes, and generated "big" records for the pull benchmark."""

from __future__ import annotations

import json
import random
import uuid
from datetime import datetime, timezone

from .model import BytesContent, Community, GeneratedContent, Record, Store, StoredFile


def _csv(seed: str, rows: int, header: str, fmt) -> bytes:
    rng = random.Random(seed)
    lines = [header]
    for i in range(rows):
        lines.append(fmt(i, rng))
    return ("\n".join(lines) + "\n").encode()


def seed(store: Store) -> None:
    """A handful of realistic records and communities (fixed ids, dates and bytes)."""
    day = lambda s: datetime.fromisoformat(s + "T09:30:00+00:00")  # noqa: E731
    for slug, title, description, ctype, website, created in [
        ("escape2020", "ESCAPE 2020",
         "European Science Cluster of Astronomy & Particle physics ESFRI research infrastructures: the "
         "Open-source Scientific Software and Service Repository (OSSR).", "project", "https://projectescape.eu",
         "2019-05-02"),
        ("cern", "CERN", "Research outputs of CERN, the European Organization for Nuclear Research.",
         "organization", "https://home.cern", "2018-02-11"),
        ("sciencemesh", "ScienceMesh", "The CS3MESH4EOSC ScienceMesh: federated sync-and-share for research.",
         "project", "https://sciencemesh.io", "2020-09-15"),
        ("climate-data", "Climate data collection", "Open climate observation and reanalysis datasets.",
         "topic", "https://example.org/climate", "2021-01-20"),
        ("cs3-2023", "CS3 2023 workshop", "Contributions to the CS3 2023 workshop on cloud storage services.",
         "event", "https://cs3-2023.example.org", "2022-11-30"),
    ]:
        store.communities[slug] = Community(
            id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"standin/{slug}")), slug=slug, title=title,
            description=description, type=ctype, website=website, created=day(created),
        )

    def text(s: str) -> BytesContent:
        return BytesContent(s.encode())

    def add(meta, files, created, **kw):
        rec = store.add_record(meta, files, created=day(created), **kw)
        store.seeded.append(rec.recid)
        return rec

    # 1-3: three versions of one software concept (ESCAPE OSSR)
    concept = store.new_id()
    creators = [
        {"name": "Vuillaume, Thomas", "affiliation": "LAPP, CNRS, Univ. Savoie Mont Blanc", "orcid": "0000-0002-5686-2078"},
        {"name": "Garcia, Enrique", "affiliation": "LAPP, CNRS"},
        {"name": "Nöthe, Maximilian", "affiliation": "TU Dortmund University"},
    ]
    for version, created, extra in [("v1.0.0", "2021-03-01", ""), ("v1.1.0", "2022-06-15", " Adds CodeMeta 2.0 support."),
                                    ("v2.0.0", "2024-01-10", " Python 3.10+, new Zenodo client.")]:
        add(
            {
                "title": f"eossr: the ESCAPE OSSR library {version}",
                "description": "<p>The <b>eossr</b> library gathers tools to interact with the ESCAPE Open-source "
                "Scientific Software and Service Repository (OSSR) on Zenodo: metadata conversion from CodeMeta, "
                f"uploads and continuous deployment.{extra}</p>",
                "creators": creators,
                "publication_date": created,
                "resource_type": {"type": "software"},
                "license": {"id": "mit"},
                "communities": [{"id": "escape2020"}],
                "keywords": ["ESCAPE", "OSSR", "Zenodo", "CodeMeta", "python"],
                "version": version,
                "access_right": "open",
            },
            [
                StoredFile(f"eossr-{version}.zip", GeneratedContent(f"eossr-{version}.zip", 180_000 + len(version) * 1000)),
                StoredFile("codemeta.json", text(json.dumps({"@context": "https://doi.org/10.5063/schema/codemeta-2.0",
                                                            "name": "eossr", "version": version}, indent=2) + "\n")),
            ],
            created,
            conceptrecid=concept,
        )

    # 4: dataset with several files (CERN)
    add(
        {
            "title": "CMS Open Data: dimuon invariant mass spectrum, Run 2012B",
            "description": "<p>Dimuon events selected from the CMS 2012 DoubleMuParked dataset, with the "
            "invariant mass of each muon pair. Prepared for the ScienceMesh Jupyter demo.</p>",
            "creators": [
                {"name": "McCauley, Thomas", "affiliation": "University of Notre Dame"},
                {"name": "Lassila-Perini, Kati", "affiliation": "Helsinki Institute of Physics"},
            ],
            "publication_date": "2023-04-18",
            "resource_type": {"type": "dataset"},
            "license": {"id": "cc0-1.0"},
            "communities": [{"id": "cern"}],
            "keywords": ["CMS", "open data", "dimuon", "particle physics"],
            "version": "1.0",
            "access_right": "open",
        },
        [
            StoredFile("dimuon.csv", BytesContent(_csv("dimuon", 4000, "run,event,pt1,pt2,eta1,eta2,mass",
                       lambda i, r: f"195013,{100000 + i},{r.uniform(5, 80):.3f},{r.uniform(5, 80):.3f},"
                                    f"{r.uniform(-2.4, 2.4):.3f},{r.uniform(-2.4, 2.4):.3f},{r.lognormvariate(2.5, 1):.4f}"))),
            StoredFile("README.md", text("# Dimuon spectrum\n\nColumns: run, event, transverse momenta, pseudorapidities, "
                                        "invariant mass (GeV).\n")),
            StoredFile("selection.py", text("import pandas as pd\n\ndf = pd.read_csv('dimuon.csv')\n"
                                           "print(df[df.mass.between(80, 100)].describe())\n")),
        ],
        "2023-04-18",
    )

    # 5: publication
    add(
        {
            "title": "Sync and share for science: a survey of ScienceMesh deployments",
            "description": "<p>We survey twelve sites of the ScienceMesh federation and their use of CS3 APIs, "
            "Reva and open cloud mesh (OCM) shares for research data.</p>",
            "creators": [
                {"name": "Mościcki, Jakub T.", "affiliation": "CERN"},
                {"name": "Lo Presti, Giuseppe", "affiliation": "CERN"},
                {"name": "Ziemba, Michiel", "affiliation": "SURF"},
            ],
            "publication_date": "2022-10-03",
            "resource_type": {"type": "publication", "subtype": "article"},
            "license": {"id": "cc-by-4.0"},
            "communities": [{"id": "sciencemesh"}],
            "keywords": ["sync and share", "CS3", "ScienceMesh", "OCM"],
            "access_right": "open",
        },
        [StoredFile("sciencemesh-survey.pdf", GeneratedContent("survey.pdf", 1_250_000))],
        "2022-10-03",
    )

    # 6: presentation in two communities
    add(
        {
            "title": "Integrating Jupyter with CS3 storage: lessons from SWAN",
            "description": "<p>Slides of the CS3 2023 talk on JupyterLab, CERNBox and the CS3 APIs.</p>",
            "creators": [{"name": "Piparo, Danilo", "affiliation": "CERN"}, {"name": "Tejedor, Enric", "affiliation": "CERN"}],
            "publication_date": "2023-03-07",
            "resource_type": {"type": "presentation"},
            "license": {"id": "cc-by-4.0"},
            "communities": [{"id": "cs3-2023"}, {"id": "cern"}, {"id": "sciencemesh"}],
            "keywords": ["Jupyter", "SWAN", "CERNBox", "CS3"],
            "access_right": "open",
        },
        [StoredFile("slides.pdf", GeneratedContent("slides.pdf", 2_400_000))],
        "2023-03-07",
    )

    # 7: climate dataset with a bigger file
    add(
        {
            "title": "Global ocean temperature anomalies 1950-2020 (monthly, 1 degree)",
            "description": "<p>Monthly sea-surface temperature anomalies relative to 1981-2010, gridded at one "
            "degree, with a CSV summary of global means.</p>",
            "creators": [{"name": "Hausfather, Zeke", "affiliation": "Berkeley Earth"},
                         {"name": "Rohde, Robert", "affiliation": "Berkeley Earth"}],
            "publication_date": "2021-09-21",
            "resource_type": {"type": "dataset"},
            "license": {"id": "cc-by-4.0"},
            "communities": [{"id": "climate-data"}],
            "keywords": ["climate", "ocean", "temperature", "anomaly"],
            "version": "2021.09",
            "access_right": "open",
        },
        [
            StoredFile("sst_anomalies.nc", GeneratedContent("sst_anomalies.nc", 5 * (1 << 20) + 12345)),
            StoredFile("global_means.csv", BytesContent(_csv("global", 852, "year,month,anomaly",
                       lambda i, r: f"{1950 + i // 12},{i % 12 + 1},{r.gauss(0.1 + i / 2000, 0.15):.3f}"))),
        ],
        "2021-09-21",
    )

    # 8: poster
    add(
        {
            "title": "Poster: Gamma-ray burst afterglows seen by CTA prototypes",
            "description": "<p>Poster presented at the ESCAPE summer school on the detection of GRB afterglows.</p>",
            "creators": [{"name": "Kerszberg, Daniel", "affiliation": "IFAE-BIST"}],
            "publication_date": "2022-07-12",
            "resource_type": {"type": "poster"},
            "license": {"id": "cc-by-sa-4.0"},
            "communities": [{"id": "escape2020"}],
            "keywords": ["gamma-ray bursts", "CTA", "astronomy"],
            "access_right": "open",
        },
        [StoredFile("poster.png", GeneratedContent("poster.png", 640_000))],
        "2022-07-12",
    )

    # 9: many small files, names that need quoting
    files = [StoredFile(f"sample_{i:02d}.txt", text(f"sample {i}\n" + "x" * (97 * i))) for i in range(1, 11)]
    files.append(StoredFile("Measurements (raw) #1.csv", text("t,value\n0,1.5\n1,1.7\n")))
    files.append(StoredFile("empty.dat", BytesContent(b"")))
    add(
        {
            "title": "mesh-zenodo test fixture: many small files",
            "description": "<p>A record with a dozen small files, one with spaces and a hash sign in its "
            "name and one empty file.</p>",
            "creators": [{"name": "Einstein, Albert", "affiliation": "ScienceMesh demo"}],
            "publication_date": "2024-05-02",
            "resource_type": {"type": "dataset"},
            "license": {"id": "cc0-1.0"},
            "communities": [{"id": "sciencemesh"}],
            "keywords": ["test"],
            "version": "1",
            "access_right": "open",
        },
        files,
        "2024-05-02",
    )


def add_big_record(store: Store, n_files: int, size_mib: float) -> Record:
    size = int(size_mib * (1 << 20))
    files = [
        StoredFile(f"part-{i:02d}.bin", GeneratedContent(f"big-{store.next_id}-{i}", size)) for i in range(1, n_files + 1)
    ]
    rec = store.add_record(
        {
            "title": f"Benchmark record: {n_files} files of {size_mib:g} MiB",
            "description": "<p>Generated content for the pull benchmark.</p>",
            "creators": [{"name": "Benchmark, Bench", "affiliation": "mesh-zenodo"}],
            "publication_date": "2024-06-01",
            "resource_type": {"type": "dataset"},
            "license": {"id": "cc0-1.0"},
            "communities": [],
            "keywords": ["benchmark"],
            "version": "1",
            "access_right": "open",
        },
        files,
        created=datetime(2024, 6, 1, tzinfo=timezone.utc),
    )
    store.big_records.append(rec.recid)
    return rec
