#ifndef MVM_CLIBVIRT_SHIM_H
#define MVM_CLIBVIRT_SHIM_H
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
/* QEMU-specific calls (virDomainQemuMonitorCommand), in libvirt-qemu.so. */
#include <libvirt/libvirt-qemu.h>

/* libvirt's default authentication callbacks (console prompts). A C global
   variable is shared mutable state to Swift 6; reading it through a function
   keeps that out of Swift. */
static inline virConnectAuthPtr mvm_default_auth(void) {
    return virConnectAuthPtrDefault;
}
#endif
