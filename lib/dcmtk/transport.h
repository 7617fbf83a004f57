/*
 * lib/dcmtk/transport.h: the TCP transport layer every association of ours uses
 * (lib/dcmtk/transport.cc). With tuning on, each socket gets TCP_NODELAY (no Nagle delay on our
 * sends) and TCP_QUICKACK re-armed before and after every read (Linux clears it by itself), so
 * that no round trip waits for a delayed ACK whatever the peer does (DESIGN.md, issue 3).
 * Installed with ASC_setTransportLayer(network, layer, 0) on the SCU's and the SCP's network.
 * The process environment (TCP_NODELAY variable) is never touched.
 */
#ifndef MCM_LIB_DCMTK_TRANSPORT_H
#define MCM_LIB_DCMTK_TRANSPORT_H

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dcmlayer.h>

class McmTransportLayer : public DcmTransportLayer {
  public:
    explicit McmTransportLayer(bool tune) : DcmTransportLayer(), tune_(tune) {}
    /* DCMTK asks with useSecureLayer = true once a layer is installed; ignore the flag. */
    DcmTransportConnection *createConnection(DcmNativeSocketType socket, OFBool useSecureLayer) override;

  private:
    bool tune_;
};

/* ASC_initializeNetwork() serialised by a process-wide lock: the first initialisation of a
 * process runs DCMTK's one-time set-up behind an unsynchronised static (dcmtk-notes section 5),
 * so an SCU and an SCP starting on two threads must not race there. */
OFCondition mcm_initialize_network(T_ASC_NetworkRole role, int port, int timeout, T_ASC_Network **network);

#endif
