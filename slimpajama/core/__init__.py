"""Beam-free core: the pure Python/numpy functions every stage is built from.

read → clean (`normalize`, `keytext`) → sign (`shingles`, `minhash`) → band (`lsh`) → cluster
(`union_find`, `star_rounds`) → select (`keep`, `jaccard`) → mix (`mixture`, `split`), plus the
books (`accounting`), the source names (`sources`) and where bundled recipes live (`paths`).

May import: the standard library, numpy, xxhash, ftfy. Never Apache Beam, click, or any other
`slimpajama` package (a test enforces it).
"""
