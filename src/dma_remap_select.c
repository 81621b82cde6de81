/*
 * Which unit driver the remapping backend uses (declared in dma_remap.h):
 * the registry, discovery, the verifier hook and the selection of the first
 * driver whose ACPI table is present and whose verification passes.
 */
#include "dma_remap_internal.h"

#include "acpi.h"
#include "proof.h"

#include <stdio.h>

static const struct remap_unit_ops *drivers[DMA_REMAP_MAX_DRIVERS];
static unsigned driver_count;
static const struct remap_unit_ops *current; /* the driver being verified, then in use */
static remap_verify_fn verifier;

static bool acpi_table_present(const char *signature)
{
	return acpi_find_table(signature, 0, NULL) != NULL;
}

void remap_register_driver(const struct remap_unit_ops *driver)
{
	if (driver_count < DMA_REMAP_MAX_DRIVERS)
		drivers[driver_count++] = driver;
}

void remap_set_verifier(remap_verify_fn verify)
{
	verifier = verify;
}

const struct remap_unit_ops *dma_remap_driver(void)
{
	return current;
}

bool remap_discover_once(struct remap_discovery *state, bool (*discover)(char *, size_t),
			 char *reason, size_t cap)
{
	if (!state->done) {
		state->done = true;
		state->ok = discover(state->reason, sizeof(state->reason));
		if (!state->ok) {
			struct proof p;

			proof_begin(&p, "iommu", "unavailable");
			proof_str(&p, "reason", state->reason);
			proof_emit(&p);
		}
	}
	if (!state->ok)
		remap_reason(reason, cap, "%s", state->reason);
	return state->ok;
}

const struct remap_unit_ops *dma_remap_discover(char *reason, size_t cap, bool *table_present)
{
	char first[REMAP_REASON_MAX] = "no-remapping-driver";

	*table_present = false;
	if (current && current->discover(reason, cap))
		return current;
	for (unsigned i = 0; i < driver_count; i++) {
		char why[REMAP_REASON_MAX];

		*table_present |= acpi_table_present(drivers[i]->acpi_table);
		if (drivers[i]->discover(why, sizeof(why)))
			return drivers[i];
		if (i == 0)
			snprintf(first, sizeof(first), "%s", why);
	}
	remap_reason(reason, cap, "%s", first);
	return NULL;
}

bool dma_remap_fault_pending(unsigned *unit)
{
	for (unsigned i = 0; current && i < current->unit_count(); i++) {
		if (current->fault_pending(current->unit_get(i))) {
			*unit = current->unit_get(i)->index;
			return true;
		}
	}
	return false;
}


/* After a driver failed verification nothing of it may keep translating. */
static void stand_down(const struct remap_unit_ops *drv)
{
	char why[REMAP_REASON_MAX];

	for (unsigned i = 0; i < drv->unit_count(); i++) {
		struct remap_unit *u = drv->unit_get(i);

		if (drv->translating(u))
			drv->disable(u, why, sizeof(why));
	}
	remap_forget_remapped(drv);
}

/* Makes `driver` the one in use if the verifier accepts it; else leaves nothing translating. */
static bool try_driver(const struct remap_unit_ops *driver, char *why, size_t cap)
{
	current = driver;
	if (!verifier)
		remap_reason(why, cap, "no-remapping-verifier");
	else if (verifier(&dma_remap_ops, why, cap))
		return true;
	if (driver->unit_count() > 0)
		stand_down(driver);
	current = NULL;
	return false;
}

/*
 * Tries, in registration order, each driver whose ACPI table is present;
 * the first the verifier accepts is used.  With no table at all the first
 * driver is tried anyway, so its discovery names what is missing.
 */
static bool verify_drivers(char *why, size_t cap)
{
	char reason[DMA_REASON_MAX];
	unsigned tried = 0;

	remap_reason(why, cap, "no-remapping-driver");
	for (unsigned i = 0; i < driver_count; i++) {
		if (!acpi_table_present(drivers[i]->acpi_table))
			continue;
		if (try_driver(drivers[i], reason, sizeof(reason)))
			return true;
		if (tried++ == 0)
			remap_reason(why, cap, "%s", reason); /* the first present table explains best */
	}
	if (tried == 0 && driver_count > 0)
		return try_driver(drivers[0], why, cap);
	return false;
}

bool dma_remap_verified(const char **reason)
{
	static bool done, ok;
	static char why[DMA_REASON_MAX];

	if (!done) {
		done = true;
		ok = verify_drivers(why, sizeof(why));
	}
	if (reason)
		*reason = ok ? "remapping-verified" : why;
	return ok;
}

/* The driver's word for the backend-selection line: "vtd", "amd-vi" ("none" until verified). */
static const char *remap_iommu_name(void)
{
	return current ? current->name : "none";
}

void dma_remap_register(void)
{
	dma_register_remapping_backend(&dma_remap_ops, dma_remap_verified, remap_iommu_name);
}
