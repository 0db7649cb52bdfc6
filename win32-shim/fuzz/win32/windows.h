/*
 * windows.h - a stand-in for the Windows header, for building the shim's
 * sources natively (clang, Linux) inside the fuzz harness. It declares only
 * what the shim's sources use; fake_win32.c implements the functions in memory (no
 * real window, file or mapping is created). Compile with -fshort-wchar so
 * that WCHAR and L"..." are 16-bit as on Windows.
 */
#ifndef SIPB_FUZZ_WINDOWS_H
#define SIPB_FUZZ_WINDOWS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* mingw-w64 spellings used by the shim */
#define gnu_printf printf
#define __mingw_vsnprintf vsnprintf
#define __mingw_snprintf snprintf

#define WINAPI
#define CALLBACK
#define VOID void
#define FALSE 0
#define TRUE 1

typedef int BOOL;
typedef uint8_t BYTE;
typedef uint16_t WORD;
typedef uint32_t DWORD;
typedef unsigned int UINT;
typedef int32_t LONG;
typedef uint32_t ULONG;
typedef uint64_t ULONGLONG;
typedef int64_t LONGLONG;
typedef union { struct { DWORD LowPart; int32_t HighPart; } u; LONGLONG QuadPart; } LARGE_INTEGER;
typedef intptr_t LONG_PTR;
typedef uintptr_t ULONG_PTR;
typedef uintptr_t DWORD_PTR;
typedef size_t SIZE_T;
typedef uintptr_t WPARAM;
typedef intptr_t LPARAM;
typedef intptr_t LRESULT;
typedef uint16_t ATOM;
typedef wchar_t WCHAR;
typedef const WCHAR *LPCWSTR;
typedef WCHAR *LPWSTR;
typedef const char *LPCSTR;
typedef char *LPSTR;
typedef void *LPVOID;
typedef void *PVOID;
typedef const void *LPCVOID;
typedef DWORD *LPDWORD;

typedef void *HANDLE;
typedef struct fake_hwnd__ *HWND;
typedef struct fake_hinstance__ *HINSTANCE;
typedef HINSTANCE HMODULE;
typedef struct fake_hicon__ *HICON;
typedef struct fake_hcursor__ *HCURSOR;
typedef struct fake_hbrush__ *HBRUSH;
typedef struct fake_hmenu__ *HMENU;
typedef intptr_t (*FARPROC)(void);

typedef LRESULT (*WNDPROC)(HWND, UINT, WPARAM, LPARAM);
typedef VOID (*SENDASYNCPROC)(HWND, UINT, ULONG_PTR, LRESULT);
typedef DWORD (*LPTHREAD_START_ROUTINE)(LPVOID);

typedef struct {
    int locked; /* the fake checks that Enter and Leave pair up */
} CRITICAL_SECTION;

typedef struct {
    LONG x;
    LONG y;
} POINT;

typedef struct {
    HWND hwnd;
    UINT message;
    WPARAM wParam;
    LPARAM lParam;
    DWORD time;
    POINT pt;
} MSG;

typedef struct {
    ULONG_PTR dwData;
    DWORD cbData;
    PVOID lpData;
} COPYDATASTRUCT;

typedef struct {
    UINT cbSize;
    UINT style;
    WNDPROC lpfnWndProc;
    int cbClsExtra;
    int cbWndExtra;
    HINSTANCE hInstance;
    HICON hIcon;
    HCURSOR hCursor;
    HBRUSH hbrBackground;
    LPCWSTR lpszMenuName;
    LPCWSTR lpszClassName;
    HICON hIconSm;
} WNDCLASSEXW;

typedef struct {
    PVOID BaseAddress;
    PVOID AllocationBase;
    DWORD AllocationProtect;
    SIZE_T RegionSize;
    DWORD State;
    DWORD Protect;
    DWORD Type;
} MEMORY_BASIC_INFORMATION;

/* errors */
#define ERROR_FILE_NOT_FOUND 2u
#define ERROR_INVALID_HANDLE 6u
#define ERROR_NOT_ENOUGH_MEMORY 8u
#define ERROR_HANDLE_EOF 38u
#define ERROR_INVALID_PARAMETER 87u
#define ERROR_BROKEN_PIPE 109u
#define ERROR_PROC_NOT_FOUND 127u
#define ERROR_ALREADY_EXISTS 183u
#define ERROR_MESSAGE_SYNC_ONLY 1159u
#define ERROR_INVALID_WINDOW_HANDLE 1400u
#define ERROR_CANNOT_FIND_WND_CLASS 1407u
#define ERROR_CLASS_ALREADY_EXISTS 1410u
#define ERROR_NOT_ENOUGH_QUOTA 1816u
#define ERROR_TIMEOUT 1460u

/* waits */
#define INFINITE 0xFFFFFFFFu
#define WAIT_OBJECT_0 0u
#define WAIT_TIMEOUT 258u
#define WAIT_FAILED 0xFFFFFFFFu
#define QS_SENDMESSAGE 0x0040u
#define QS_ALLINPUT 0x04FFu
#define MWMO_INPUTAVAILABLE 0x0004u
#define PM_REMOVE 0x0001u
#define PM_QS_SENDMESSAGE (QS_SENDMESSAGE << 16)
#define ISMEX_NOSEND 0x00000000u
#define ISMEX_SEND 0x00000001u
#define ISMEX_NOTIFY 0x00000002u
#define ISMEX_CALLBACK 0x00000004u
#define SMTO_NORMAL 0x0000u

/* messages and windows */
#define WM_NULL 0x0000u
#define WM_DESTROY 0x0002u
#define WM_CLOSE 0x0010u
#define WM_QUIT 0x0012u
#define WM_COPYDATA 0x004Au
#define GWLP_USERDATA (-21)
#define HWND_MESSAGE ((HWND)(intptr_t)-3)
#define WS_POPUP 0x80000000u
#define WS_EX_TOOLWINDOW 0x00000080u
#define WS_EX_NOACTIVATE 0x08000000u
#define MSGFLT_ALLOW 1u

/* objects */
#define INVALID_HANDLE_VALUE ((HANDLE)(intptr_t)-1)
#define STACK_SIZE_PARAM_IS_A_RESERVATION 0x00010000u
#define PROCESS_QUERY_LIMITED_INFORMATION 0x1000u
#define GENERIC_READ 0x80000000u
#define GENERIC_WRITE 0x40000000u
#define FILE_SHARE_READ 0x1u
#define FILE_SHARE_WRITE 0x2u
#define FILE_SHARE_DELETE 0x4u
#define CREATE_ALWAYS 2u
#define OPEN_EXISTING 3u
#define FILE_ATTRIBUTE_NORMAL 0x80u
#define PAGE_READWRITE 0x04u
#define FILE_MAP_WRITE 0x0002u
#define FILE_MAP_READ 0x0004u
#define FORMAT_MESSAGE_IGNORE_INSERTS 0x0200u
#define FORMAT_MESSAGE_FROM_SYSTEM 0x1000u
#define STD_INPUT_HANDLE ((DWORD)-10)
#define STD_OUTPUT_HANDLE ((DWORD)-11)
#define STD_ERROR_HANDLE ((DWORD)-12)

/* kernel32 */
DWORD GetLastError(void);
void SetLastError(DWORD err);
HANDLE GetStdHandle(DWORD which);
BOOL ReadFile(HANDLE h, LPVOID buf, DWORD n, LPDWORD read, void *overlapped);
BOOL WriteFile(HANDLE h, LPCVOID buf, DWORD n, LPDWORD written, void *overlapped);
BOOL CloseHandle(HANDLE h);
void InitializeCriticalSection(CRITICAL_SECTION *cs);
void EnterCriticalSection(CRITICAL_SECTION *cs);
void LeaveCriticalSection(CRITICAL_SECTION *cs);
HANDLE CreateEventW(void *attributes, BOOL manualReset, BOOL initialState, LPCWSTR name);
HANDLE OpenEventW(DWORD access, BOOL inherit, LPCWSTR name);
BOOL SetEvent(HANDLE h);
DWORD WaitForSingleObject(HANDLE h, DWORD ms);
HANDLE CreateThread(void *attributes, SIZE_T stack, LPTHREAD_START_ROUTINE start, LPVOID arg,
                    DWORD flags, LPDWORD id);
void Sleep(DWORD ms);
ULONGLONG GetTickCount64(void);
#define ALL_PROCESSOR_GROUPS 0xffff
DWORD GetActiveProcessorCount(WORD group);
BOOL QueryPerformanceFrequency(LARGE_INTEGER *frequency);
BOOL QueryPerformanceCounter(LARGE_INTEGER *count);
#define YieldProcessor() ((void)0)
LONG InterlockedDecrement(LONG volatile *p);
LONG InterlockedExchange(LONG volatile *p, LONG v);
DWORD GetCurrentProcessId(void);
HANDLE GetCurrentProcess(void);
BOOL TerminateProcess(HANDLE h, UINT code);
void ExitProcess(UINT code) __attribute__((noreturn));
HANDLE OpenProcess(DWORD access, BOOL inherit, DWORD pid);
BOOL QueryFullProcessImageNameW(HANDLE h, DWORD flags, LPWSTR name, DWORD *size);
HMODULE GetModuleHandleW(LPCWSTR name);
FARPROC GetProcAddress(HMODULE module, LPCSTR name);
DWORD GetEnvironmentVariableA(LPCSTR name, LPSTR value, DWORD size);
DWORD GetEnvironmentVariableW(LPCWSTR name, LPWSTR value, DWORD size);
BOOL GetFileSizeEx(HANDLE file, LARGE_INTEGER *size);
DWORD FormatMessageA(DWORD flags, LPCVOID source, DWORD id, DWORD lang, LPSTR buf, DWORD size,
                     void *args);
HANDLE CreateFileW(LPCWSTR path, DWORD access, DWORD share, void *attributes, DWORD disposition,
                   DWORD flags, HANDLE templ);
HANDLE CreateFileMappingW(HANDLE file, void *attributes, DWORD protect, DWORD sizeHigh,
                          DWORD sizeLow, LPCWSTR name);
HANDLE OpenFileMappingW(DWORD access, BOOL inherit, LPCWSTR name);
LPVOID MapViewOfFile(HANDLE mapping, DWORD access, DWORD offsetHigh, DWORD offsetLow, SIZE_T n);
BOOL UnmapViewOfFile(LPCVOID view);
SIZE_T VirtualQuery(LPCVOID address, MEMORY_BASIC_INFORMATION *info, SIZE_T size);
int lstrlenW(LPCWSTR s);
int lstrcmpiW(LPCWSTR a, LPCWSTR b);
int lstrcmpiA(LPCSTR a, LPCSTR b);

/* user32 */
ATOM RegisterClassExW(const WNDCLASSEXW *wc);
HWND CreateWindowExW(DWORD exStyle, LPCWSTR cls, LPCWSTR title, DWORD style, int x, int y, int w,
                     int h, HWND parent, HMENU menu, HINSTANCE instance, LPVOID param);
BOOL DestroyWindow(HWND hwnd);
BOOL IsWindow(HWND hwnd);
LRESULT DefWindowProcW(HWND hwnd, UINT msg, WPARAM wParam, LPARAM lParam);
LONG_PTR SetWindowLongPtrW(HWND hwnd, int index, LONG_PTR value);
LONG_PTR GetWindowLongPtrW(HWND hwnd, int index);
DWORD GetWindowThreadProcessId(HWND hwnd, LPDWORD pid);
HWND FindWindowExW(HWND parent, HWND after, LPCWSTR cls, LPCWSTR title);
BOOL SendMessageCallbackW(HWND hwnd, UINT msg, WPARAM wParam, LPARAM lParam, SENDASYNCPROC callback,
                          ULONG_PTR data);
LRESULT SendMessageTimeoutW(HWND hwnd, UINT msg, WPARAM wParam, LPARAM lParam, UINT flags,
                            UINT timeout, DWORD_PTR *result);
BOOL PostMessageW(HWND hwnd, UINT msg, WPARAM wParam, LPARAM lParam);
BOOL PeekMessageW(MSG *msg, HWND hwnd, UINT first, UINT last, UINT remove);
LRESULT DispatchMessageW(const MSG *msg);
DWORD MsgWaitForMultipleObjectsEx(DWORD count, const HANDLE *handles, DWORD ms, DWORD wake,
                                  DWORD flags);
DWORD InSendMessageEx(LPVOID reserved);

#endif /* SIPB_FUZZ_WINDOWS_H */
