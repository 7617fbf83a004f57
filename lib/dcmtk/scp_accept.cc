/*
 * lib/dcmtk/scp_accept.cc: the SCP's accept loop (lib/dcmtk/scp_internal.h). Owns the listening
 * socket (our own, bound where the options say, swapped into DCMTK's network key), the loop that
 * polls it with the stop and wake pipes, one thread per connection (receive the A-ASSOCIATE-RQ,
 * scp_negotiate.cc, scp_session.cc, drop), the joining of ended threads, and the stop: no new
 * association, a grace period for requests in flight, then every read cut. The transport layer it
 * installs makes every wait for data watch the stop pipe, so that no peer can hold a stop up.
 */
#include "dcmtk/scp_internal.h"

#include "core/error.h"
#include "dcmtk/conditions.h"

#include <dcmtk/dcmnet/dcmtrans.h>
#include <dcmtk/dcmnet/dulstruc.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <new>

namespace
{

/* Connection threads allowed beyond max_associations: they only read the A-ASSOCIATE-RQ and
 * reject it (transient, local limit exceeded), so a full SCP still answers politely. */
constexpr unsigned kExtraConnections = 4;
/* After mcm_scp_stop(), requests in flight get this long to finish before every read is cut. */
constexpr int kStopGraceMilliseconds = 10000;
/* Waiting for the peer to close after a release, reject or abort. */
constexpr int kDropTimeoutSeconds = 1;

/* The connection whose thread is running: lets the transport layer, which DCMTK calls from inside
 * ASC_receiveAssociation(), find the connection it creates a transport for. */
thread_local mcm_scp_connection *current_connection = nullptr;

void write_byte(int fd)
{
    char byte = 1;
    ssize_t n;
    do {
        n = write(fd, &byte, 1);
    } while (n < 0 && errno == EINTR);
    /* EAGAIN: the pipe is full, so it is readable already; nothing else to do. */
}

void drain(int fd)
{
    char buffer[256];
    while (read(fd, buffer, sizeof buffer) > 0) {
    }
}

int64_t now_ms()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

/* The transport connection DCMTK reads through: the layer's own connection (TCP_NODELAY and
 * TCP_QUICKACK, lib/dcmtk/transport.h) wrapped so that every wait for data also watches the SCP's
 * stop pipe. DUL only reads after networkDataAvailable() says so (we use non-blocking DUL/DIMSE
 * modes everywhere), so answering "no data" once a stop is due ends any wait at once: a peer that
 * connected and never spoke, or an idle association, cannot hold mcm_scp_run() up. A request in
 * flight is not cut unless it outlives the stop grace period. */
class StopAwareConnection : public DcmTransportConnection
{
  public:
    StopAwareConnection(DcmTransportConnection *inner, int socket_fd, mcm_scp_connection *connection)
        : DcmTransportConnection(-1), inner_(inner), socket_fd_(socket_fd), connection_(connection)
    {
    }
    ~StopAwareConnection() override
    {
        delete inner_;
    }
    OFCondition serverSideHandshake() override
    {
        return inner_->serverSideHandshake();
    }
    OFCondition clientSideHandshake() override
    {
        return inner_->clientSideHandshake();
    }
    OFCondition renegotiate(const char *suite) override
    {
        return inner_->renegotiate(suite);
    }
    ssize_t read(void *buffer, size_t length) override
    {
        return inner_->read(buffer, length);
    }
    ssize_t write(void *buffer, size_t length) override
    {
        return inner_->write(buffer, length);
    }
    void close() override
    {
        socket_fd_ = -1;
        inner_->close();
    }
    void closeTransportConnection() override
    {
        inner_->closeTransportConnection();
    }
    unsigned long getPeerCertificateLength() override
    {
        return inner_->getPeerCertificateLength();
    }
    unsigned long getPeerCertificate(void *buffer, unsigned long length) override
    {
        return inner_->getPeerCertificate(buffer, length);
    }
    OFBool isTransparentConnection() override
    {
        return inner_->isTransparentConnection();
    }
    OFString &dumpConnectionParameters(OFString &text) override
    {
        return inner_->dumpConnectionParameters(text);
    }
    OFBool networkDataAvailable(int timeout) override;

  private:
    DcmTransportConnection *inner_;
    int socket_fd_;
    mcm_scp_connection *connection_;
};

OFBool StopAwareConnection::networkDataAvailable(int timeout)
{
    mcm_scp *scp = connection_->scp;
    if (socket_fd_ < 0)
        return inner_->networkDataAvailable(timeout);
    int64_t deadline = now_ms() + (timeout > 0 ? static_cast<int64_t>(timeout) * 1000 : 0);
    for (;;) {
        bool stopping = scp->stop_requested.load() != 0;
        if (stopping && (!connection_->in_request.load() || scp->force_interrupt.load() != 0))
            return OFFalse;
        struct pollfd fds[2];
        fds[0].fd = socket_fd_;
        fds[0].events = POLLIN;
        fds[0].revents = 0;
        fds[1].fd = scp->stop_pipe[0];
        fds[1].events = POLLIN;
        fds[1].revents = 0;
        int64_t left = deadline - now_ms();
        if (left < 0)
            left = 0;
        /* Once stopping, the stop pipe stays readable: poll the socket alone, in slices, so that the
         * end of the grace period is noticed. */
        int slice = stopping ? static_cast<int>(left < 100 ? left : 100) : static_cast<int>(left);
        int n = poll(fds, stopping ? 1 : 2, slice);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return OFFalse;
        }
        if (fds[0].revents != 0)
            return inner_->networkDataAvailable(0);
        if (n == 0 && now_ms() >= deadline)
            return OFFalse;
    }
}

/* The body of a connection thread: receive the association, negotiate, serve, clean up. */
void serve_connection(mcm_scp_connection *connection)
{
    mcm_scp *scp = connection->scp;
    current_connection = connection;
    T_ASC_Association *assoc = nullptr;
    bool counted = false;
    try {
        OFCondition c = ASC_receiveAssociation(scp->network, &assoc, static_cast<long>(scp->max_pdu), nullptr, nullptr,
                                               OFFalse, DUL_NOBLOCK, 0);
        /* If accept() failed or found nothing, the transport layer was never called: report now. */
        if (!connection->accept_reported.exchange(true))
            write_byte(scp->wake_pipe[1]);
        if (c.good()) {
            char calling[20] = "", called[20] = "";
            (void)ASC_getAPTitles(assoc->params, calling, sizeof calling, called, sizeof called, nullptr, 0);
            if (mcm_scp_negotiate(scp, assoc, calling, called, &counted))
                mcm_scp_serve_association(scp, connection, assoc, calling);
        } else {
            McmConditionClass failure = mcm_condition_classify(c);
            if (failure.failure != McmFailure::NoAssociationRequest)
                mcm_service_log(scp->service, MCM_LOG_DEBUG, "association not received: %s: %s", failure.word,
                                mcm_condition_text(c).c_str());
        }
    } catch (...) {
        mcm_service_log(scp->service, MCM_LOG_ERROR, "association thread: unexpected exception");
        if (assoc != nullptr)
            (void)ASC_abortAssociation(assoc);
    }
    if (assoc != nullptr) {
        (void)ASC_dropSCPAssociation(assoc, kDropTimeoutSeconds);
        (void)ASC_destroyAssociation(&assoc);
    }
    if (counted) {
        std::lock_guard<std::mutex> guard(scp->lock);
        scp->active_associations--;
    }
    current_connection = nullptr;
    connection->finished.store(true);
    write_byte(scp->wake_pipe[1]);
}

size_t connection_count(mcm_scp *scp)
{
    std::lock_guard<std::mutex> guard(scp->lock);
    return scp->connections.size();
}

/* Stop listening without closing the descriptor DCMTK owns: an unbound socket takes its place. */
void close_listener(mcm_scp *scp)
{
    if (scp->listen_fd < 0)
        return;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
        (void)dup3(fd, scp->listen_fd, O_CLOEXEC);
        close(fd);
    }
}

/* Start a connection thread for a connection waiting on the listening socket. NULL if no thread
 * could be made (the connection is then accepted and closed, so that the loop does not spin). */
mcm_scp_connection *start_connection(mcm_scp *scp)
{
    mcm_scp_connection *raw = new (std::nothrow) mcm_scp_connection(scp);
    bool listed = false;
    try {
        if (raw != nullptr) {
            std::lock_guard<std::mutex> guard(scp->lock);
            scp->connections.emplace_back(raw); /* the list owns it from here */
            listed = true;
            /* Under the lock, so that the list never holds a connection whose thread is not set. */
            raw->thread = std::thread(serve_connection, raw);
            return raw;
        }
    } catch (...) {
        std::lock_guard<std::mutex> guard(scp->lock);
        if (listed)
            scp->connections.remove_if([raw](const std::unique_ptr<mcm_scp_connection> &c) { return c.get() == raw; });
        else
            delete raw;
    }
    mcm_service_log(scp->service, MCM_LOG_ERROR, "cannot start an association thread: closing the connection");
    int fd = accept4(scp->listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd >= 0)
        close(fd);
    return nullptr;
}

} // namespace

DcmTransportConnection *ScpTransportLayer::createConnection(DcmNativeSocketType socket, OFBool useSecureLayer)
{
    mcm_scp_connection *connection = current_connection;
    int flags = fcntl(socket, F_GETFD);
    if (flags >= 0)
        (void)fcntl(socket, F_SETFD, flags | FD_CLOEXEC);
    DcmTransportConnection *inner = McmTransportLayer::createConnection(socket, useSecureLayer);
    if (connection == nullptr || inner == nullptr)
        return inner;
    if (!connection->accept_reported.exchange(true))
        write_byte(connection->scp->wake_pipe[1]);
    DcmTransportConnection *wrapped = new (std::nothrow) StopAwareConnection(inner, socket, connection);
    if (wrapped == nullptr) {
        delete inner;
        return nullptr;
    }
    return wrapped;
}

/* DCMTK 3.6.7 binds INADDR_ANY and cannot be told otherwise. dup3() swaps the descriptor in place,
 * so DCMTK's network key keeps its number and closes ours in ASC_dropNetwork(). */
int mcm_scp_bind_listener(mcm_scp *scp, const mcm_scp_options *opts)
{
    PRIVATE_NETWORKKEY *key = reinterpret_cast<PRIVATE_NETWORKKEY *>(scp->network->network);
    if (key == nullptr || key->networkSpecific.TCP.listenSocket < 0)
        return mcm_fail(MCM_EINTERNAL, "DCMTK's network has no listening socket");
    struct sockaddr_in address;
    std::memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_port = htons(opts->port);
    address.sin_addr.s_addr = htonl(INADDR_ANY);
    if (opts->bind_address != nullptr && opts->bind_address[0] != '\0') {
        struct addrinfo hints;
        std::memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_INET;
        hints.ai_socktype = SOCK_STREAM;
        struct addrinfo *found = nullptr;
        int rc = getaddrinfo(opts->bind_address, nullptr, &hints, &found);
        if (rc != 0 || found == nullptr)
            return mcm_fail(MCM_EINVAL, "bind address %s: %s", opts->bind_address, gai_strerror(rc));
        address.sin_addr = reinterpret_cast<struct sockaddr_in *>(found->ai_addr)->sin_addr;
        freeaddrinfo(found);
    }
    /* Non-blocking: a connection that vanishes between our poll() and DCMTK's accept() must make
     * accept() fail at once (EAGAIN), not block the connection thread until the next client
     * (accepted sockets do not inherit O_NONBLOCK on Linux). */
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return mcm_fail(MCM_ENET, "socket: %s", std::strerror(errno));
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, reinterpret_cast<struct sockaddr *>(&address), sizeof address) != 0 || listen(fd, 64) != 0) {
        int error = errno;
        close(fd);
        char text[INET_ADDRSTRLEN] = "";
        inet_ntop(AF_INET, &address.sin_addr, text, sizeof text);
        return mcm_fail(error == EADDRINUSE ? MCM_EBUSY : MCM_ENET, "cannot listen on %s:%u: %s", text,
                        static_cast<unsigned>(opts->port), std::strerror(error));
    }
    socklen_t length = sizeof address;
    if (getsockname(fd, reinterpret_cast<struct sockaddr *>(&address), &length) != 0) {
        int error = errno;
        close(fd);
        return mcm_fail(MCM_ENET, "getsockname: %s", std::strerror(error));
    }
    int target = key->networkSpecific.TCP.listenSocket;
    /* dup3() keeps the file status flags (O_NONBLOCK) and sets close-on-exec on the copy. */
    if (dup3(fd, target, O_CLOEXEC) < 0) {
        int error = errno;
        close(fd);
        return mcm_fail(MCM_ENET, "dup3: %s", std::strerror(error));
    }
    close(fd);
    scp->listen_fd = target;
    scp->port = ntohs(address.sin_port);
    return MCM_OK;
}

void mcm_scp_join_connections(mcm_scp *scp, bool all)
{
    std::list<std::unique_ptr<mcm_scp_connection>> ended;
    {
        std::lock_guard<std::mutex> guard(scp->lock);
        for (auto it = scp->connections.begin(); it != scp->connections.end();) {
            if (all || (*it)->finished.load()) {
                ended.push_back(std::move(*it));
                it = scp->connections.erase(it);
            } else {
                ++it;
            }
        }
    }
    for (auto &connection : ended)
        if (connection->thread.joinable())
            connection->thread.join();
}

void mcm_scp_request_stop(mcm_scp *scp)
{
    int saved_errno = errno;
    scp->stop_requested.store(1);
    write_byte(scp->stop_pipe[1]);
    errno = saved_errno;
}

int mcm_scp_serve(mcm_scp *scp)
{
    if (scp->ran.exchange(1) != 0)
        return mcm_fail(MCM_ESTATE, "mcm_scp_run: the SCP has already run");
    if (scp->stop_requested.load() != 0) {
        close_listener(scp);
        return MCM_OK;
    }
    int rc = mcm_service_start(scp->service);
    if (rc != MCM_OK)
        return rc;
    const size_t max_connections = scp->max_associations + kExtraConnections;
    mcm_scp_connection *accepting = nullptr; /* started, not yet past accept(): do not poll the listener */
    int failure = 0;                         /* errno of a failed poll: the loop ends as for a stop */
    while (scp->stop_requested.load() == 0) {
        if (accepting != nullptr && (accepting->accept_reported.load() || accepting->finished.load()))
            accepting = nullptr;
        mcm_scp_join_connections(scp, false);
        bool listen_now = accepting == nullptr && connection_count(scp) < max_connections;
        struct pollfd fds[3];
        fds[0] = {scp->stop_pipe[0], POLLIN, 0};
        fds[1] = {scp->wake_pipe[0], POLLIN, 0};
        fds[2] = {scp->listen_fd, POLLIN, 0};
        int n = poll(fds, listen_now ? 3 : 2, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            failure = errno;
            mcm_service_log(scp->service, MCM_LOG_ERROR, "poll: %s: stopping", std::strerror(failure));
            /* Associations end only when they see a stop (StopAwareConnection): raise it, or
             * idle ones would hold this function up until their DIMSE timeout. */
            mcm_scp_request_stop(scp);
            break;
        }
        if (fds[1].revents != 0)
            drain(scp->wake_pipe[0]);
        if (listen_now && (fds[2].revents & POLLIN) != 0 && scp->stop_requested.load() == 0)
            accepting = start_connection(scp);
    }

    /* Stopping: no new associations; requests in flight finish; the rest is aborted (the
     * transport's waits end at once); after the grace period every read is cut. */
    close_listener(scp);
    int64_t grace_end = now_ms() + kStopGraceMilliseconds;
    for (;;) {
        mcm_scp_join_connections(scp, false);
        if (connection_count(scp) == 0)
            break;
        int64_t left = grace_end - now_ms();
        if (left <= 0 && scp->force_interrupt.exchange(1) == 0)
            mcm_service_log(scp->service, MCM_LOG_WARNING, "stop: cutting requests still in flight");
        struct pollfd wake = {scp->wake_pipe[0], POLLIN, 0};
        (void)poll(&wake, 1, left > 0 ? static_cast<int>(left < 200 ? left : 200) : 200);
        drain(scp->wake_pipe[0]);
    }
    mcm_scp_join_connections(scp, true);
    mcm_service_stop(scp->service);
    mcm_service_log(scp->service, MCM_LOG_DEBUG, "stopped");
    if (failure != 0)
        return mcm_fail(MCM_ENET, "mcm_scp_run: waiting for connections failed: %s", std::strerror(failure));
    return MCM_OK;
}
