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
# A news page is far below this; anything larger is a trap or a file behind a .html URL.
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
REDIRECT_MAX_TIMES = 5
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False

# A live progress line on a terminal (coopspider crawl); -s COOPSPIDER_PROGRESS=0 turns it off.
EXTENSIONS = {"coopspider.extensions.CrawlProgress": 500}
COOPSPIDER_PROGRESS = True

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
