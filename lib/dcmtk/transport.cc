/*
 * lib/dcmtk/transport.cc: the TCP transport layer of every association of ours (transport.h).
 * Owns the socket options of our connections: TCP_NODELAY once, TCP_QUICKACK at creation and
 * around every read. It does not touch the process environment (DCMTK's own switch is the
 * TCP_NODELAY variable, read by dul.cc; dcmtk-notes section 4) and does not own the sockets'
 * lifetime, which stays with DcmTCPConnection.
 */
#include "dcmtk/transport.h"

#include "dcmtk/log.h"

#include <dcmtk/dcmnet/dcmtrans.h>

#include <mutex>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace
{

/* Best effort: a socket that refuses an option still works, only slower. */
void set_option(DcmNativeSocketType socket, int option)
{
    if (socket < 0)
        return;
    int one = 1;
    (void)setsockopt(socket, IPPROTO_TCP, option, &one, sizeof one);
}

/* A DcmTCPConnection that keeps quick ACK armed. Linux turns TCP_QUICKACK off again by itself
 * (it is a hint to the ACK machinery, not a sticky option), so a peer that leaves Nagle's
 * algorithm on would otherwise wait up to 40 ms for our delayed ACK before sending the rest of
 * a reply: re-arming it just before and just after each read makes every ACK immediate. */
class McmTcpConnection : public DcmTCPConnection
{
  public:
    explicit McmTcpConnection(DcmNativeSocketType socket) : DcmTCPConnection(socket)
    {
        set_option(socket, TCP_NODELAY);
        set_option(socket, TCP_QUICKACK);
    }

    ssize_t read(void *buf, size_t nbyte) override
    {
        set_option(getSocket(), TCP_QUICKACK);
        ssize_t n = DcmTCPConnection::read(buf, nbyte);
        set_option(getSocket(), TCP_QUICKACK);
        return n;
    }
};

std::mutex network_init_lock;

} // namespace

DcmTransportConnection *McmTransportLayer::createConnection(DcmNativeSocketType socket, OFBool useSecureLayer)
{
    /* DCMTK passes useSecureLayer = true for every connection once a layer is installed
     * (dcmtk-notes section 4); this layer is plain TCP whatever the flag says. */
    (void)useSecureLayer;
    try {
        if (tune_)
            return new McmTcpConnection(socket);
        return new DcmTCPConnection(socket);
    } catch (...) {
        return NULL; /* DCMTK closes the socket and reports a TCP initialisation error */
    }
}

OFCondition mcm_initialize_network(T_ASC_NetworkRole role, int port, int timeout, T_ASC_Network **network)
{
    /* The first DUL_InitializeNetwork of a process runs one-time set-up behind an unsynchronised
     * static (dcmtk-notes section 5): serialise every initialisation of ours. */
    mcm_log_apply_default();
    try {
        std::lock_guard<std::mutex> guard(network_init_lock);
        return ASC_initializeNetwork(role, port, timeout, network);
    } catch (...) {
        return EC_IllegalCall; /* the lock failed: callers are C boundaries, nothing may escape */
    }
}
