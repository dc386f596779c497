"""Scrapy settings for coopspider: polite defaults for government sites; override any with -s."""

BOT_NAME = "coopspider"
SPIDER_MODULES = ["coopspider.spiders"]
NEWSPIDER_MODULE = "coopspider.spiders"

# Politeness: these are small government servers. Identify ourselves and go slowly.
USER_AGENT = "coopspider/0.1 (+https://github.com/coopspider/coopspider)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 4
CONCURRENT_REQUESTS_PER_DOMAIN = 1
DOWNLOAD_DELAY = 2.0
DOWNLOAD_DELAY_JITTER = 0.5  # ±50% around DOWNLOAD_DELAY
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
# Before the n-th retry of a page wait RETRY_BACKOFF_BASE * 2**(n-1) s (2, 4, 8 s), at most
# RETRY_BACKOFF_MAX; 0 retries at once (coopspider.middlewares.RetryBackoffMiddleware).
RETRY_BACKOFF_BASE = 2.0
RETRY_BACKOFF_MAX = 120.0
# A body shorter than its Content-Length is an error (retried), never a page to read.
DOWNLOAD_FAIL_ON_DATALOSS = True
# A news page is far below this; anything larger is a trap or a file behind a .html URL.
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
REDIRECT_MAX_TIMES = 5
# Listing pages numbered above this are not followed: a pager linking to page 99999 is a trap.
COOPSPIDER_MAX_LISTING_PAGE = 1000
# A site has tens of categories and its pages link tens of articles: more is a trap (listings
# that each name a new category, a page of 50,000 article links). Past these caps the crawl
# follows no new category and takes no more article links from the page (counted and logged).
COOPSPIDER_MAX_CATEGORIES = 200
COOPSPIDER_MAX_ARTICLE_LINKS_PER_PAGE = 500
COOKIES_ENABLED = False
# Scrapy starts this many tasks for every callback's output; our callbacks yield one item (or a
# page of links), so the default of 100 costs about as much CPU as extracting the article.
CONCURRENT_ITEMS = 4
TELNETCONSOLE_ENABLED = False

# A live progress line on a terminal (coopspider crawl); -s COOPSPIDER_PROGRESS=0 turns it off.
# Ctrl-C stops the crawl cleanly and records its run as interrupted (coopspider.extensions).
EXTENSIONS = {
    "coopspider.extensions.CrawlProgress": 500,
    "coopspider.extensions.Interruption": 510,
}
COOPSPIDER_PROGRESS = True

DOWNLOADER_MIDDLEWARES = {
    # robots.txt obeyed by every request, also those made before it arrived.
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "coopspider.middlewares.RobotsTxtGuardMiddleware": 100,
    # Only the base URL's host and port, not every subdomain and port of it.
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "coopspider.middlewares.SiteOnlyMiddleware": 50,
    "coopspider.middlewares.RetryBackoffMiddleware": 560,
    # Sees a redirect before Scrapy's RedirectMiddleware (600) follows it into a loop.
    "coopspider.middlewares.RedirectLoopMiddleware": 610,
}

ITEM_PIPELINES = {
    "coopspider.pipelines.normalise.NormalisePipeline": 100,
    "coopspider.pipelines.validate.ValidatePipeline": 200,
    "coopspider.pipelines.store.StorePipeline": 300,
}

# Where the archive lives; empty means the COOPSPIDER_DATABASE_URL environment variable, else
# sqlite:///data/coopspider.sqlite3 in the working directory.
DATABASE_URL = ""
# Turn storage off (e.g. to only export a feed): -s COOPSPIDER_STORE_ENABLED=0
COOPSPIDER_STORE_ENABLED = True
# Every article page that becomes a new version, and every 404/410 that removes one, is also kept
# as served in gzip WARC files in WARC_DIR (relative to the working directory), a new file past
# WARC_MAX_BYTES; -s WARC_ENABLED=0 turns it off. `coopspider crawl` and `run` set these from
# the [warc] table of the configuration file and COOPSPIDER_WARC_DIR / COOPSPIDER_WARC_ENABLED.
WARC_ENABLED = True
WARC_DIR = "data/warc"
WARC_MAX_BYTES = 1024**3
# Worker processes that extract articles beside the crawl; empty: one per spare core (at most
# two), 0: extract inside the crawl's process.
COOPSPIDER_EXTRACT_PROCESSES = ""
# Day/month order of the site's dates: "DMY" for Vietnamese sites, "MDY" for US-locale ones.
# The site profile sets it (and DOWNLOAD_DELAY, CONCURRENT_REQUESTS_PER_DOMAIN) for its crawl.
DATE_ORDER = "DMY"
# The user's [sites.NAME] tables (see coopspider.profiles.load_profiles): changes to the built-in
# site profiles and new sites, for `scrapy crawl lienminh -a site=NAME`. Empty: the JSON object in
# $COOPSPIDER_SITE_TABLES, how `coopspider run` passes them (off the command line: a base URL in
# them may hold a login).
SITE_PROFILES: dict = {}

FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"

# Change tracking and incremental crawls (each also a spider argument: -a revisit_days=N ...).
# Articles published within REVISIT_DAYS are fetched again on every crawl to catch edits; older
# ones once REVISIT_OLD_DAYS have passed since they were last fetched.
REVISIT_DAYS = 14
REVISIT_OLD_DAYS = 30
# A listing page whose articles are all known ends the walk down that category's pages; a full
# crawl (-a full=1 or -s FULL_CRAWL=1) walks every page and fetches every article again.
FULL_CRAWL = False
# The visitor counter showing the same total this many runs in a row is reported as frozen.
COUNTER_FROZEN_RUNS = 3
