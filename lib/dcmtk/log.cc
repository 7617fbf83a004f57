/*
 * lib/dcmtk/log.cc: mcm_log_set_handler(): routes DCMTK's process-global OFLog into the
 * application's handler with matching levels. Owns that handler (the only process-wide log state
 * of the library: everything the library itself says goes to the log callback of the SCU, SCP or
 * media context concerned). Silent by default: before the first network of ours starts or file is
 * read, DCMTK's root logger is switched off unless the application has set a handler
 * (mcm_log_apply_default()).
 */
#include "dcmtk/log.h"

#include "core/error.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/oflog/oflog.h>
#include <dcmtk/oflog/spi/logevent.h>

#include <atomic>
#include <mutex>

namespace {

/* The application's handler; DCMTK's appender threads read it while a new call may replace it. */
std::mutex handler_lock;
mcm_log_fn handler_fn;
void *handler_user;
mcm_log_level handler_level = MCM_LOG_ERROR;

void store_handler(mcm_log_fn fn, void *user, mcm_log_level max_level)
{
    std::lock_guard<std::mutex> guard(handler_lock);
    handler_fn = fn;
    handler_user = user;
    handler_level = max_level;
}

/* Pass one line to the handler if one is set and the level is wanted (called outside the lock,
 * so that the handler may take its time or log from several threads). */
void emit(mcm_log_level level, const char *message)
{
    mcm_log_fn fn;
    void *user;
    {
        std::lock_guard<std::mutex> guard(handler_lock);
        if (handler_fn == nullptr || level > handler_level)
            return;
        fn = handler_fn;
        user = handler_user;
    }
    fn(level, message, user);
}

/* An OFLog appender that hands each formatted event to the application's handler. */
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
        emit(level, line.c_str());
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
        store_handler(fn, user, max_level);
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
