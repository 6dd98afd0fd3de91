#!/usr/bin/env bash
# search-relevance.sh — relevance of searchd's engine against Bleve v2 on the
# Cranfield collection (1400 abstracts, 225 queries, graded judgments), both
# in the same run: prints MAP, nDCG@10 and P@10 of each and cairn's ratio to
# Bleve. The goal (issue 17) is cairn's nDCG@10 >= Bleve's with both engines'
# defaults: nothing is tuned to the collection.
#
# Settings, each side (see bench/search-relevance/main.go):
#   cairn   searchd/engine as a library, one shard, fields title (.T) and
#           body (.W) mapped as text with searchd's default text analyzer,
#           BM25 k1 1.2 b 0.75, Elasticsearch multi_match over both fields
#           (best_fields, operator or), top 100.
#   bleve   Bleve v2 (go.mod's version), a scorch index, the same two fields
#           with Bleve's English analyzer "en", the index mapping's scoring
#           model "bm25", a disjunction of a match query per field, top 100.
#   metrics gain = 5 - grade for grades 1..4 (1 is the most relevant); the
#           grade -1 (one judgment per query in this copy) is not relevant.
#           nDCG@10 with linear gains and a log2 discount, MAP over the top
#           100, P@10; means over the 225 queries.
#
# Environment: DATA (default: shared/data/ir/cranfield beside the
# repository), SYSTEMS (default bleve,cairn), OUTPUT (table|json, default
# table).
set -euo pipefail

cd "$(dirname "$0")/.."
args=(-systems "${SYSTEMS:-bleve,cairn}" -output "${OUTPUT:-table}")
[[ -n ${DATA:-} ]] && args+=(-data "$DATA")
exec go run ./bench/search-relevance "${args[@]}"
