# xapian_helper.py — the Xapian side of bench/searchbench/anchors (Xapian
# target), driven over stdin/stdout by Go; Python because Debian ships
# Xapian's bindings for Python (python3-xapian), not for Go.
#
#   python3 xapian_helper.py index DBDIR
#     reads documents as JSON lines (searchbench.Doc); a line "." ends a
#     batch, answered "ok"; a line "commit" commits, answered "ok".
#   python3 xapian_helper.py query DBDIR|HOST:PORT
#     reads queries as JSON lines ({"kind", "field", "text"}) and answers
#     each with the number of matches (an estimate from Xapian, exact for
#     facets), or "error: ..." on one line.
#
# Terms: title with prefix S, description with prefix XD, both stemmed
# (English, Xapian's default STEM_SOME: stemmed terms get a Z prefix, the
# unstemmed form is indexed too); no stop words (Xapian's default). The
# id is the boolean term Q<id>; section is value slot 0 (the facet).
# Ranking: BM25Weight with its defaults (Xapian's default scheme).
import json
import sys

import xapian

SECTION_SLOT = 0
PREFIX = {"title": "S", "description": "XD"}


def index(path):
    db = xapian.WritableDatabase(path, xapian.DB_CREATE_OR_OVERWRITE)
    tg = xapian.TermGenerator()
    tg.set_stemmer(xapian.Stem("en"))
    for line in sys.stdin:
        line = line.rstrip("\n")
        if line == ".":
            print("ok", flush=True)
            continue
        if line == "commit":
            db.commit()
            print("ok", flush=True)
            continue
        d = json.loads(line)
        doc = xapian.Document()
        tg.set_document(doc)
        tg.index_text(d["title"], 1, PREFIX["title"])
        tg.index_text(d["description"], 1, PREFIX["description"])
        doc.add_value(SECTION_SLOT, d["section"])
        idterm = "Q" + d["id"]
        doc.add_boolean_term(idterm)
        db.replace_document(idterm, doc)
    db.close()


def open_db(where):
    host, sep, port = where.rpartition(":")
    if sep and port.isdigit():
        return xapian.remote_open(host, int(port))
    return xapian.Database(where)


def query(where):
    db = open_db(where)
    qp = xapian.QueryParser()
    qp.set_stemmer(xapian.Stem("en"))
    qp.set_stemming_strategy(xapian.QueryParser.STEM_SOME)
    for field, prefix in PREFIX.items():
        qp.add_prefix(field, prefix)
    qp.set_database(db)
    for line in sys.stdin:
        try:
            q = json.loads(line)
            prefix = PREFIX[q["field"]]
            kind, text = q["kind"], q["text"]
            if kind == "phrase":
                xq = qp.parse_query('"' + text + '"', xapian.QueryParser.FLAG_PHRASE, prefix)
            elif kind == "prefix":
                xq = qp.parse_query(text + "*", xapian.QueryParser.FLAG_WILDCARD, prefix)
            else:
                xq = qp.parse_query(text, xapian.QueryParser.FLAG_DEFAULT, prefix)
            enq = xapian.Enquire(db)
            enq.set_query(xq)
            if kind == "facet":
                spy = xapian.ValueCountMatchSpy(SECTION_SLOT)
                enq.add_matchspy(spy)
                # checkatleast = every document: the counts are exact.
                mset = enq.get_mset(0, 10, db.get_doccount())
                for _ in spy.top_values(10):
                    pass
                n = mset.get_matches_estimated()
            else:
                mset = enq.get_mset(0, 10)
                n = mset.get_matches_estimated()
            print(n, flush=True)
        except Exception as e:  # one line per query, whatever happens
            print("error: " + str(e).replace("\n", " "), flush=True)


if __name__ == "__main__":
    {"index": index, "query": query}[sys.argv[1]](sys.argv[2])
