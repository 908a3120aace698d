"""The DICOM PS3.16 codes of the M-mode measurements, stated as facts for the
SR tests (tests/test_measurement/test_dicom_sr.py,
tests/test_tools/test_measure_sr.py), not taken from mmecho."""

#: PS3.16 (CID 12201 / 12200 / 12205 / 12212): measurements.csv column ->
#: (code value, scheme, meaning, UCUM unit)
CODES = {
    'IVSd': ('18154-5', 'LN', 'Interventricular Septum Diastolic Thickness',
             'cm'),
    'LVIDd': ('29436-3', 'LN',
              'Left Ventricle Internal End Diastolic Dimension', 'cm'),
    'LVPWd': ('18152-9', 'LN',
              'Left Ventricle Posterior Wall Diastolic Thickness', 'cm'),
    'IVSs': ('18158-6', 'LN', 'Interventricular Septum Systolic Thickness',
             'cm'),
    'LVIDs': ('29438-9', 'LN', 'Left Ventricle Internal Systolic Dimension',
              'cm'),
    'LVPWs': ('18156-0', 'LN',
              'Left Ventricle Posterior Wall Systolic Thickness', 'cm'),
    'AoR': ('18015-8', 'LN', 'Aortic Root Diameter', 'cm'),
    'LA': ('29469-4', 'LN', 'Left Atrium Antero-posterior Systolic Dimension',
           'cm'),
    'FS': ('18051-3', 'LN', 'Left Ventricular Fractional Shortening', '%'),
    'EF': ('18043-0', 'LN', 'Left Ventricular Ejection Fraction by US', '%'),
    'heart_rate_bpm': ('8867-4', 'LN', 'Heart rate', '/min'),
}
LEFT_VENTRICLE = ('87878005', 'SCT')
LEFT_ATRIUM = ('82471001', 'SCT')
AORTA = ('15825003', 'SCT')
M_MODE = ('399155008', 'SCT')
IMAGE_MODE = ('399264008', 'SCT')
