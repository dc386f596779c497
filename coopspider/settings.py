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
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False

DOWNLOADER_MIDDLEWARES = {
    "coopspider.middlewares.RetryBackoffMiddleware": 560,
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
# Day/month order of the site's dates: "DMY" for Vietnamese sites, "MDY" for US-locale ones.
DATE_ORDER = "DMY"

FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
