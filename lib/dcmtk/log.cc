/*
 * lib/dcmtk/log.cc: mcm_log_set_handler(): stores the library's log handler (lib/core/log.c) and routes
 * DCMTK's process-global OFLog into it with matching levels. Silent by default: before the first
 * network of ours starts, DCMTK's root logger is switched off unless the application has set a
 * handler (mcm_log_apply_default()).
 */
#include "core/log.h"
#include "core/error.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/oflog/oflog.h>
#include <dcmtk/oflog/spi/logevent.h>

#include <atomic>
#include <mutex>

namespace {

/* An OFLog appender that hands each formatted event to lib/core/log.c. */
class HandlerAppender : public dcmtk::log4cplus::Appender {
  public:
    HandlerAppender() { setName(DCMTK_LOG4CPLUS_TEXT("dcmmcm")); }
    ~HandlerAppender() override { destructorImpl(); }
    void close() override { closed = true; }

  protected:
    void append(const dcmtk::log4cplus::spi::InternalLoggingEvent &event) override
    {
        mcm_log_level level;
        dcmtk::log4cplus::LogLevel l = event.getLogLevel();
        if (l >= dcmtk::log4cplus::ERROR_LOG_LEVEL)
            level = MCM_LOG_ERROR;
        else if (l >= dcmtk::log4cplus::WARN_LOG_LEVEL)
            level = MCM_LOG_WARNING;
        else if (l >= dcmtk::log4cplus::INFO_LOG_LEVEL)
            level = MCM_LOG_INFO;
        else if (l >= dcmtk::log4cplus::DEBUG_LOG_LEVEL)
            level = MCM_LOG_DEBUG;
        else
            level = MCM_LOG_TRACE;
        OFString line = "dcmtk: ";
        line += event.getMessage().c_str();
        mcm_log_emit(level, line.c_str());
    }
};

dcmtk::log4cplus::LogLevel oflog_level(mcm_log_level level)
{
    switch (level) {
    case MCM_LOG_ERROR: return dcmtk::log4cplus::ERROR_LOG_LEVEL;
    case MCM_LOG_WARNING: return dcmtk::log4cplus::WARN_LOG_LEVEL;
    case MCM_LOG_INFO: return dcmtk::log4cplus::INFO_LOG_LEVEL;
    case MCM_LOG_DEBUG: return dcmtk::log4cplus::DEBUG_LOG_LEVEL;
    default: return dcmtk::log4cplus::TRACE_LOG_LEVEL;
    }
}

/* Set once mcm_log_set_handler() has been called: the application chose, we keep out of it. */
std::atomic<bool> handler_chosen{false};

} // namespace

extern "C" void mcm_log_apply_default(void)
{
    static std::once_flag once;
    std::call_once(once, [] {
        if (handler_chosen.load())
            return;
        try {
            /* DCMTK's default is INFO and above to stderr; a library must be silent until asked. */
            dcmtk::log4cplus::Logger::getRoot().setLogLevel(dcmtk::log4cplus::OFF_LOG_LEVEL);
        } catch (...) {
        }
    });
}

extern "C" MCM_EXTERN int mcm_log_set_handler(mcm_log_fn fn, void *user, mcm_log_level max_level)
{
    if ((int)max_level < MCM_LOG_ERROR || (int)max_level > MCM_LOG_TRACE)
        return mcm_fail(MCM_EINVAL, "invalid log level %d", (int)max_level);
    try {
        handler_chosen.store(true);
        mcm_log_store_handler(fn, user, max_level);
        dcmtk::log4cplus::Logger root = dcmtk::log4cplus::Logger::getRoot();
        root.removeAllAppenders();
        if (fn == NULL) {
            root.setLogLevel(dcmtk::log4cplus::OFF_LOG_LEVEL);
        } else {
            dcmtk::log4cplus::SharedAppenderPtr appender(new HandlerAppender());
            root.addAppender(appender);
            root.setLogLevel(oflog_level(max_level));
        }
        return MCM_OK;
    } catch (...) {
        return mcm_fail(MCM_EINTERNAL, "could not configure DCMTK's logger");
    }
}
