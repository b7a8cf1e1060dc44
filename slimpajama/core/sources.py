"""The seven RedPajama-1T sources: input folder name <-> published `redpajama_set_name`."""

SET_NAMES: dict[str, str] = {
    "arxiv": "RedPajamaArXiv",
    "book": "RedPajamaBook",
    "c4": "RedPajamaC4",
    "common_crawl": "RedPajamaCommonCrawl",
    "github": "RedPajamaGithub",
    "stackexchange": "RedPajamaStackExchange",
    "wikipedia": "RedPajamaWikipedia",
}
"""Input folder -> set name, in the order of the RedPajama-1T release."""

FOLDERS: dict[str, str] = {name: folder for folder, name in SET_NAMES.items()}
"""Set name -> input folder."""
